"""What a run accepts: answers to questions, answers to plugin steps, JSON Schema checks.

The runner calls these before it changes anything, so a refused answer leaves
the run as it was. Each refusal is an :class:`~.run_state.AnswerError` whose
``code`` a program can act on (``not_an_option``, ``too_long``,
``pattern_mismatch``…) and whose message tells the customer what to fix.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from . import expressions
from .json_values import is_plain_json, json_type_name
from .limits import DEFAULT_LIMITS
from .run_state import AnswerError, RunDocumentError

__all__ = ["MAX_TEXT_ANSWER", "check_plugin_answer", "check_question_answer", "schema_error"]

#: Longest text answer accepted when the question sets no ``max_length``.
MAX_TEXT_ANSWER = DEFAULT_LIMITS.max_answer_length


def _option_values(step: Mapping[str, Any]) -> list[Any]:
    return [o.get("value") for o in step.get("options") or () if type(o) is dict]


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if is_plain_json(value, 8) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def check_question_answer(step: Mapping[str, Any], value: Any, store_type: str | None) -> Any:
    """The answer as recorded, or :class:`AnswerError` saying what to fix."""
    kind = step.get("kind")
    required = step.get("required", True) is not False
    if value is None:
        if required:
            raise AnswerError("required", "this question needs an answer", "value")
        return None
    if kind == "single_choice":
        options = _option_values(step)
        if type(value) is str:  # the common case: string options, compared directly
            for option in options:
                if type(option) is str and option == value:
                    return option
        for option in options:
            if expressions.strict_equals(option, value):
                return option
        raise AnswerError("not_an_option",
                          f"{_describe(value)} is not one of the options ({', '.join(map(_describe, options))})",
                          "value")
    if kind == "multiple_choice":
        if type(value) is not list:
            raise AnswerError("wrong_type", f"choose a list of options, not {json_type_name(value)}", "value")
        options = _option_values(step)
        chosen: list[Any] = []
        for index, item in enumerate(value):
            if not any(expressions.strict_equals(option, item) for option in options):
                raise AnswerError("not_an_option", f"{_describe(item)} is not one of the options", f"value/{index}")
            if any(expressions.strict_equals(item, seen) for seen in chosen):
                raise AnswerError("duplicate_choice", f"{_describe(item)} is chosen twice", f"value/{index}")
            chosen.append(item)
        least = step.get("min_selected", 1 if required else 0)
        most = step.get("max_selected")
        if len(chosen) < least:
            raise AnswerError("too_few_selected", f"choose at least {least} option(s)", "value")
        if most is not None and len(chosen) > most:
            raise AnswerError("too_many_selected", f"choose at most {most} option(s)", "value")
        return chosen
    if kind == "text":
        if type(value) is not str:
            raise AnswerError("wrong_type", f"the answer must be text, not {json_type_name(value)}", "value")
        if required and not value.strip():
            raise AnswerError("required", "this question needs an answer", "value")
        longest = min(step.get("max_length", MAX_TEXT_ANSWER), MAX_TEXT_ANSWER)
        shortest = step.get("min_length", 0)
        if len(value) > longest:
            raise AnswerError("too_long", f"the answer may be at most {longest} characters", "value")
        if len(value) < shortest:
            raise AnswerError("too_short", f"the answer must be at least {shortest} characters", "value")
        pattern = step.get("pattern")
        if type(pattern) is str and _compiled(pattern).fullmatch(value) is None:
            raise AnswerError("pattern_mismatch", "the answer does not have the expected format", "value")
        return value
    if kind == "number":
        if type(value) not in (int, float) or (type(value) is float and not math.isfinite(value)):
            raise AnswerError("wrong_type", f"the answer must be a number, not {json_type_name(value)}", "value")
        if store_type == "integer" and not float(value).is_integer():
            raise AnswerError("not_integer", "the answer must be a whole number", "value")
        low, high = step.get("min"), step.get("max")
        if low is not None and value < low:
            raise AnswerError("too_small", f"the answer must be at least {low}", "value")
        if high is not None and value > high:
            raise AnswerError("too_large", f"the answer must be at most {high}", "value")
        return int(value) if store_type == "integer" else value
    if kind == "yes_no":
        if type(value) is not bool:
            raise AnswerError("wrong_type", f"answer yes or no (true or false), not {json_type_name(value)}", "value")
        return value
    raise RunDocumentError("invalid_document", f"unknown question kind {kind!r}")


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def check_plugin_answer(step_type: Any, value: Any) -> Any:
    """An interactive plugin step's answer as recorded: plain JSON its
    ``answer_schema`` accepts, or :class:`AnswerError` saying what to fix."""
    if not is_plain_json(value, DEFAULT_LIMITS.max_nesting):
        raise AnswerError("wrong_type", "the answer must be plain JSON", "value")
    if step_type.answer_schema is not None:
        error = schema_error(step_type.answer_schema, value)
        if error is not None:
            where, message = error
            raise AnswerError("invalid_answer", message, "value" + (f"/{where}" if where else ""))
    return value


def schema_error(schema: Any, instance: Any) -> tuple[str, str] | None:
    """``(pointer without the leading slash, message)`` of the most relevant reason
    ``instance`` does not match the JSON Schema ``schema``, or ``None``. For an
    interactive plugin step's answer, an app's output against the step's schema,
    and outputs checked against more than that (a registered app's)."""
    validator = _schema_validator(json.dumps(schema, sort_keys=True))
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:199] + "…"
    return where, message


@functools.lru_cache(maxsize=256)
def _schema_validator(schema_json: str) -> Draft202012Validator:
    # Keyed by the schema's canonical JSON: the same app step validates many runs.
    return Draft202012Validator(json.loads(schema_json))
