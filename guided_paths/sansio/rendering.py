"""What a run shows now: the current step, its texts in the run's locale.

Pure (no IO): the API's ``GET /api/v1/runs/{id}`` and every transition answer
with :func:`render_view`, so an agent's console or the SDK can resume a run after
a disconnect from one response, without reading the document themselves.

Text fields of a document are a string or ``{locale: string}``; a run's locale is
negotiated once, when it starts (:func:`negotiate_locale`): an exact tag, else the
same language (``de-CH`` → ``de``), else the document's default (its first locale).

Example::

    view = render_view(doc, state, "de")
    view["type"], view["prompt"]        # ("question", "Lädt es jetzt?")
"""

from __future__ import annotations

from typing import Any, Mapping

from . import runner
from .run_state import RunState
from .step_types import COMMON_STEP_FIELDS

#: Question fields passed through to the view as they are (validation rules the
#: client can enforce before sending).
_QUESTION_RULES = ("min", "max", "min_length", "max_length", "pattern", "min_selected", "max_selected")


def negotiate_locale(requested: str | None, locales: Any) -> str | None:
    """The document locale closest to ``requested`` (``None``: the default)."""
    available = [x for x in locales if isinstance(x, str)] if isinstance(locales, list) else []
    if not available:
        return requested
    if requested is None:
        return available[0]
    lowered = requested.lower()
    for locale in available:
        if locale.lower() == lowered:
            return locale
    language = lowered.split("-")[0]
    for locale in available:
        if locale.lower().split("-")[0] == language:
            return locale
    return available[0]


def localize(text: Any, locale: str | None, locales: Any = None) -> str | None:
    """One string from a text field, in ``locale`` or the closest one there is."""
    if text is None or isinstance(text, str):
        return text
    if not isinstance(text, Mapping) or not text:
        return None
    chosen = negotiate_locale(locale, list(text))
    if locale is None and isinstance(locales, list) and locales and locales[0] in text:
        chosen = locales[0]
    value = text.get(chosen)
    return value if isinstance(value, str) else None


def _document_of(doc: Mapping[str, Any], state: RunState, path_key: str | None,
                 documents: Mapping[str, Any] | None = None) -> Mapping[str, Any] | None:
    """The document that owns ``path_key``'s steps in this run (root or subpath).

    ``documents`` (``{"key@version": document}``) adds subpath documents the state
    no longer holds: a finished run drops them."""
    if path_key is None or path_key == state.path_id:
        return doc
    for source in (state.documents, documents or {}):
        for key, document in source.items():
            if key.rsplit("@", 1)[0] == path_key:
                return document
    return None


def current_document(doc: Mapping[str, Any], state: RunState) -> Mapping[str, Any]:
    if not state.stack:
        return doc
    return state.documents.get(state.stack[-1].document_key, doc)


def step_type_of(doc: Mapping[str, Any], state: RunState, path_key: str | None, step_id: str,
                 documents: Mapping[str, Any] | None = None) -> str:
    """The ``type`` of a step the run went through ("" when it cannot be known)."""
    document = _document_of(doc, state, path_key, documents)
    steps = document.get("steps") if isinstance(document, Mapping) else None
    step = steps.get(step_id) if isinstance(steps, Mapping) else None
    kind = step.get("type") if isinstance(step, Mapping) else None
    return kind if isinstance(kind, str) else ""


def render_view(doc: Mapping[str, Any], state: RunState, locale: str | None,
                documents: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The step the run waits on, or the end it reached; ``None`` when abandoned.
    ``documents``: subpath documents a finished run no longer holds."""
    if state.status == "abandoned":
        return None
    if state.status == "completed":
        return _render_end(doc, state, locale, documents)
    document = current_document(doc, state)
    step = runner.waiting_step(doc, state)
    if step is None or state.current_step is None:
        return None
    locales = document.get("locales")
    loc = negotiate_locale(locale, locales)
    kind = step["type"]
    view: dict[str, Any] = {
        "step_id": state.current_step,
        "path_key": state.current_path_id,
        "type": kind,
        "title": localize(step.get("title"), loc, locales),
    }
    if kind == "message":
        view["text"] = localize(step.get("text"), loc, locales)
        view["media"] = [{"file_id": m.get("file_id"), "alt": localize(m.get("alt"), loc, locales)}
                         for m in step.get("media") or [] if isinstance(m, Mapping)]
        view["answer_hint"] = {"ack": True}
    elif kind == "question":
        view["kind"] = step.get("kind")
        view["prompt"] = localize(step.get("prompt"), loc, locales)
        view["required"] = step.get("required", True) is not False
        if "options" in step:
            view["options"] = [{"value": o.get("value"), "label": localize(o.get("label"), loc, locales)}
                               for o in step["options"] if isinstance(o, Mapping)]
        for rule in _QUESTION_RULES:
            if rule in step:
                view[rule] = step[rule]
        # After "back", the answer given before, so the form can be pre-filled.
        if state.current_step in state.answers:
            view["previous_answer"] = state.answers[state.current_step]
    elif kind == "action":
        view["action"] = step.get("action")
        view["input"] = runner.step_input(doc, state)
    elif kind == "app":
        view["app_id"] = step.get("app_id")
        view["input"] = runner.step_input(doc, state)
        view["output_schema"] = step.get("output_schema", True)
    elif kind == "subpath":
        view["subpath"] = step.get("path_id")
    else:  # a plugin's step type: its config, as written in the document
        view["config"] = {k: v for k, v in step.items() if k not in COMMON_STEP_FIELDS}
    return view


def _render_end(doc: Mapping[str, Any], state: RunState, locale: str | None,
                documents: Mapping[str, Any] | None) -> dict[str, Any] | None:
    for entry in reversed(state.history):
        if entry.event != "completed":
            continue
        document = _document_of(doc, state, entry.path_id, documents)
        steps = document.get("steps") if isinstance(document, Mapping) else None
        step = steps.get(entry.step_id) if isinstance(steps, Mapping) else None
        if isinstance(step, Mapping) and step.get("type") == "end":
            locales = document.get("locales")
            loc = negotiate_locale(locale, locales)
            return {
                "step_id": entry.step_id,
                "path_key": entry.path_id,
                "type": "end",
                "title": localize(step.get("title"), loc, locales),
                "outcome": step.get("outcome"),
                "message": localize(step.get("message"), loc, locales),
            }
    return None
