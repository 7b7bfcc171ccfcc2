"""Validation of texts (check 8 of :mod:`.validation`): locales and lengths.

A text field is a string, or ``{locale: string}`` for a document that declares
its ``locales`` (the first is the default, and every localised text needs it).
Titles, texts, prompts, labels and alt texts each have a length limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .json_pointer import escape

if TYPE_CHECKING:  # pragma: no cover
    from .validation import DocumentChecker

__all__ = ["check_texts"]


def check_texts(checker: DocumentChecker) -> None:
    locales = checker.doc.get("locales")
    valid_locales = (
        [x for x in locales if type(x) is str] if type(locales) is list and locales else None
    )
    limits = checker.limits
    fields: list[tuple[str, Any, int]] = [
        ("/title", checker.doc.get("title"), limits.max_title_length),
        ("/description", checker.doc.get("description"), limits.max_text_length),
    ]
    for step_id, step in checker.steps.items():
        pointer = f"/steps/{escape(step_id)}"
        fields.append((f"{pointer}/title", step.get("title"), limits.max_title_length))
        kind = step["type"]
        if kind == "message":
            fields.append((f"{pointer}/text", step.get("text"), limits.max_text_length))
            media = step.get("media")
            if type(media) is list:
                fields.extend(
                    (f"{pointer}/media/{i}/alt", m.get("alt"), limits.max_label_length)
                    for i, m in enumerate(media) if type(m) is dict
                )
        elif kind == "question":
            fields.append((f"{pointer}/prompt", step.get("prompt"), limits.max_text_length))
            options = step.get("options")
            if type(options) is list:
                fields.extend(
                    (f"{pointer}/options/{i}/label", o.get("label"), limits.max_label_length)
                    for i, o in enumerate(options) if type(o) is dict
                )
        elif kind == "end":
            fields.append((f"{pointer}/message", step.get("message"), limits.max_text_length))
    for pointer, value, max_length in fields:
        check_text(checker, pointer, value, max_length, valid_locales)


def check_text(checker: DocumentChecker, pointer: str, value: Any, max_length: int, locales: list[str] | None) -> None:
    if type(value) is str:
        if len(value) > max_length:
            checker.add(pointer, "limits.text_too_long",
                        f"{len(value)} characters; the limit here is {max_length}")
        return
    if type(value) is not dict:
        return
    if locales is None:
        checker.add(pointer, "text.locales_missing",
                    "localised text needs the document's locales; add \"locales\" (the first is the default)")
        return
    for locale, text in value.items():
        if locale not in locales:
            checker.add(f"{pointer}/{escape(locale)}", "text.unknown_locale",
                        f"locale {locale!r} is not one of the document's locales ({', '.join(locales)})")
        if type(text) is str and len(text) > max_length:
            checker.add(f"{pointer}/{escape(locale)}", "limits.text_too_long",
                        f"{len(text)} characters; the limit here is {max_length}")
    if locales[0] not in value:
        checker.add(pointer, "text.missing_default_locale",
                    f"the text has no version in the default locale {locales[0]!r}")
