"""Validation of each step's content (checks 5 and 6 of :mod:`.validation`).

Rules and inputs: the JsonLogic allowlist and caps, and that ``vars.X`` is a
declared variable and ``answers.S`` a step that records answers. Questions:
option values, ranges and patterns that make sense together. Apps and media:
the tenant allows the app and has the file; a constant app input matches the
app's ``input_schema``; an output schema is a JSON Schema. ``store_as``: the
variable is declared, of a type the step's value fits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from . import expressions
from .json_pointer import escape, pointer_to
from .json_values import excerpt, json_type_name
from .step_types import BUILTIN_STEP_TYPE_NAMES
from .validation_graph import check_subpath

if TYPE_CHECKING:  # pragma: no cover
    from .validation import DocumentChecker

__all__ = ["check_step"]


def check_step(checker: DocumentChecker, step_id: str, step: dict) -> None:
    pointer = f"/steps/{escape(step_id)}"
    kind = step["type"]
    if kind == "decision":
        branches = step.get("branches")
        if type(branches) is list:
            if len(branches) > checker.limits.max_branches:
                checker.add(f"{pointer}/branches", "limits.too_many_branches",
                            f"{len(branches)} branches; the limit is {checker.limits.max_branches}")
            for index, branch in enumerate(branches):
                if type(branch) is dict and "when" in branch:
                    check_rule(checker, f"{pointer}/branches/{index}/when", branch["when"])
    elif kind == "question":
        check_question(checker, pointer, step)
    elif kind == "message":
        check_media(checker, pointer, step)
    if kind == "app":
        check_app(checker, pointer, step)
    if kind in ("action", "app", "subpath"):
        if "input" in step:
            check_template(checker, f"{pointer}/input", step["input"])
        if kind == "app" and isinstance(step.get("output_schema"), (dict, bool)):
            try:
                Draft202012Validator.check_schema(step["output_schema"])
            except SchemaError as exc:
                checker.add(f"{pointer}/output_schema", "app.bad_output_schema",
                            f"output_schema is not a valid JSON Schema: {exc.message}")
            except Exception as exc:  # noqa: BLE001 - e.g. a regex the engine rejects
                checker.add(f"{pointer}/output_schema", "app.bad_output_schema",
                            f"output_schema cannot be used: {exc}")
        if kind == "subpath":
            check_subpath(checker, pointer, step_id, step)
    check_store_as(checker, pointer, step)


def check_app(checker: DocumentChecker, pointer: str, step: dict) -> None:
    app_id = step.get("app_id")
    if checker.known_apps is None or type(app_id) is not str:
        return
    app = checker.known_apps.get(app_id)
    if app is None:
        checker.add(f"{pointer}/app_id", "app.unknown_app",
                    f"app {app_id!r} is not registered for this account; an admin registers "
                    "Guided Path Apps with POST /api/v1/guided-path-apps")
    elif app.get("error"):
        checker.add(f"{pointer}/app_id", "app.not_allowed", f"app {app_id!r} cannot be used: {app['error']}")
    else:
        check_app_input(checker, pointer, app_id, app, step.get("input", {}))


def check_app_input(checker: DocumentChecker, pointer: str, app_id: str, app: Mapping[str, Any], template: Any) -> None:
    """A constant input must match the app's declared ``input_schema`` (one built
    from variables is checked when the app is shown)."""
    schema = app.get("input_schema", True)
    if not isinstance(schema, (dict, bool)):
        return
    try:
        if expressions.template_references(template):
            return
        value = expressions.evaluate_template(template, {})
    except expressions.ExpressionError:
        return  # reported by check_template
    try:
        errors = list(Draft202012Validator(schema).iter_errors(value))
    except Exception:  # noqa: BLE001 - the registry checked the schema; never crash validation
        return
    for err in errors:
        checker.add(f"{pointer}/input{pointer_to(err.absolute_path)}", "app.input_invalid",
                    f"the input does not match the input_schema app {app_id!r} declares: {err.message}")


def check_media(checker: DocumentChecker, pointer: str, step: dict) -> None:
    media = step.get("media")
    if checker.known_media is None or type(media) is not list:
        return
    for index, item in enumerate(media):
        file_id = item.get("file_id") if type(item) is dict else None
        if type(file_id) is str and file_id not in checker.known_media:
            checker.add(f"{pointer}/media/{index}/file_id", "message.unknown_media",
                        f"there is no Guided Path media {file_id!r} in this account; upload it with "
                        "POST /api/v1/guided-paths/media")


def check_rule(checker: DocumentChecker, pointer: str, rule: Any) -> None:
    limits = {"max_depth": checker.limits.max_rule_depth, "max_nodes": checker.limits.max_rule_nodes}
    paths = expressions.quick_strict_check(rule, **limits)
    if paths is not None and all(reference_ok(checker, path) for path in paths):
        return  # nearly every rule: nothing to report, no need for pointers
    report_analysis(checker, pointer, expressions.analyze_rule(rule, **limits))


def check_template(checker: DocumentChecker, pointer: str, template: Any) -> None:
    limits = {"max_depth": checker.limits.max_rule_depth, "max_nodes": checker.limits.max_rule_nodes}
    paths = expressions.quick_template_check(template, **limits)
    if paths is not None and all(reference_ok(checker, path) for path in paths):
        return
    report_analysis(checker, pointer, expressions.analyze_template(template, **limits))


def reference_ok(checker: DocumentChecker, path: str) -> bool:
    root, dot, rest = path.partition(".")
    name = rest.partition(".")[0]
    if root == "vars":
        return name in checker.variables
    target = checker.steps.get(name)
    return target is not None and checker.answers_recorded(target)


def report_analysis(checker: DocumentChecker, pointer: str, analysis: expressions.RuleAnalysis) -> None:
    for problem in analysis.problems:
        checker.add(pointer + problem.pointer, problem.code, problem.message)
    check_references(checker, pointer, analysis.references)


def check_references(checker: DocumentChecker, pointer: str, references: list[expressions.Reference]) -> None:
    for ref in references:
        root, dot, rest = ref.path.partition(".")
        if not dot:
            continue  # reported by the rule check (unknown_root)
        name = rest.partition(".")[0]
        if root == "vars" and name not in checker.variables:
            checker.add(pointer + ref.pointer, "expression.unknown_variable",
                        f"variable {name!r} is not declared; add it under /variables")
        elif root == "answers":
            target = checker.steps.get(name)
            if target is None:
                checker.add(pointer + ref.pointer, "expression.unknown_answer",
                            f"there is no step {name!r} whose answer could be read")
            elif not checker.answers_recorded(target):
                checker.add(pointer + ref.pointer, "expression.unknown_answer",
                            f"step {name!r} is a {target['type']} step; only questions "
                            "(and interactive plugin steps) have answers")


def check_question(checker: DocumentChecker, pointer: str, step: dict) -> None:
    kind = step.get("kind")
    options = step.get("options")
    if type(options) is list:
        if len(options) > checker.limits.max_options:
            checker.add(f"{pointer}/options", "limits.too_many_options",
                        f"{len(options)} options; the limit is {checker.limits.max_options}")
        values = [o.get("value") for o in options if type(o) is dict]
        # The common case (distinct strings) needs no pairwise comparison.
        distinct = all(type(v) is str for v in values) and len(set(values)) == len(values)
        seen: list[Any] = []
        for index, option in enumerate(() if distinct else options):
            if type(option) is not dict or "value" not in option:
                continue
            value = option["value"]
            if any(expressions.strict_equals(value, other) for other in seen):
                checker.add(f"{pointer}/options/{index}/value", "question.duplicate_option",
                            f"option value {excerpt(value)} appears more than once")
            seen.append(value)

    def number(key: str) -> float | None:
        value = step.get(key)
        return value if type(value) in (int, float) else None

    for low, high in (("min", "max"), ("min_length", "max_length"), ("min_selected", "max_selected")):
        a, b = number(low), number(high)
        if a is not None and b is not None and a > b:
            checker.add(f"{pointer}/{high}", "question.bad_range", f"{high} ({b}) is smaller than {low} ({a})")
    max_length = number("max_length")
    if kind == "text" and max_length is not None and max_length > checker.limits.max_answer_length:
        checker.add(f"{pointer}/max_length", "limits.answer_too_long",
                    f"max_length may be at most {checker.limits.max_answer_length}")
    if kind == "multiple_choice" and type(options) is list:
        for key in ("min_selected", "max_selected"):
            value = number(key)
            if value is not None and value > len(options):
                checker.add(f"{pointer}/{key}", "question.bad_range",
                            f"{key} ({value}) is more than the {len(options)} options")
    pattern = step.get("pattern")
    if type(pattern) is str:
        if len(pattern) > checker.limits.max_pattern_length:
            checker.add(f"{pointer}/pattern", "limits.pattern_too_long",
                        f"the pattern may be at most {checker.limits.max_pattern_length} characters")
        else:
            try:
                re.compile(pattern)
            except (re.error, RecursionError, OverflowError) as exc:
                checker.add(f"{pointer}/pattern", "question.bad_pattern", f"invalid regular expression: {exc}")


def produced_type(checker: DocumentChecker, step: dict) -> str | None:
    """The JSON type a step stores with ``store_as``, when it can be known."""
    kind = step.get("type")
    if kind == "question":
        q = step.get("kind")
        if q == "single_choice":
            options = step.get("options")
            values = [o.get("value") for o in options if type(o) is dict] if type(options) is list else []
            types = {json_type_name(v) for v in values}
            if types == {"string"}:
                return "string"
            if types <= {"integer", "number"} and types:
                return "integer" if types == {"integer"} else "number"
            return None
        if type(q) is not str:
            return None  # reported by the schema
        return {"multiple_choice": "array", "text": "string", "number": "number", "yes_no": "boolean"}.get(q)
    if kind in ("action", "subpath"):
        return "object"
    if kind == "app":
        schema = step.get("output_schema")
        declared = schema.get("type") if type(schema) is dict else None
        return declared if type(declared) is str else None
    step_type = checker.registry.get(kind)
    if step_type is None or kind in BUILTIN_STEP_TYPE_NAMES:
        return None
    if step_type.interactive:
        declared = step_type.answer_schema.get("type") if type(step_type.answer_schema) is dict else None
        return declared if type(declared) is str else None
    return "object"


def check_store_as(checker: DocumentChecker, pointer: str, step: dict) -> None:
    name = step.get("store_as")
    if type(name) is not str:
        return
    if name not in checker.variables:
        checker.add(f"{pointer}/store_as", "store_as.unknown_variable",
                    f"variable {name!r} is not declared; add it under /variables")
        return
    declared = checker.variables[name]
    produced = produced_type(checker, step)
    # A number question may fill an integer variable: the runner then accepts whole numbers only.
    if step.get("type") == "question" and step.get("kind") == "number" and declared == "integer":
        return
    if not _compatible(produced, declared):
        checker.add(f"{pointer}/store_as", "store_as.type_mismatch",
                    f"this step stores {'an' if produced[0] in 'aeiou' else 'a'} {produced}, "
                    f"but variable {name!r} is declared as {declared}")


def _compatible(produced: str | None, declared: str | None) -> bool:
    """Can a value of type ``produced`` be stored in a ``declared`` variable?"""
    if produced is None or declared is None or produced == declared:
        return True
    return produced == "integer" and declared == "number"
