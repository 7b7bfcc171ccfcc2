"""Strict JSON request bodies: malformed JSON, a wrong content type, a body that is
not an object, or JSON beyond the limits of :mod:`guidepath.core.domain.strict_json`
(NaN/Infinity, integers past 64 bits, nesting deeper than 64, NUL or lone surrogates
in strings) are refused with 400/415/422 and a precise message before any view code
runs — never a 500 from the parser or from the database later."""

from __future__ import annotations

from typing import Any

from flask import request

from ..domain import strict_json
from ..domain.errors import Invalid, UnsupportedMediaType
from ..domain.strict_json import BadJSON

__all__ = ["BadJSON", "UnsupportedMediaType", "json_body", "parse_json"]


def parse_json(raw: str | bytes) -> Any:
    """Any JSON value from ``raw``, strictly; :class:`BadJSON` (400, field ``body``).

    For bodies a route reads itself (another media type, a JSON array)."""
    try:
        return strict_json.loads(raw)
    except BadJSON as exc:
        exc.field = exc.field or "body"
        raise


def json_body(*, allow_empty: bool = False) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        if allow_empty:
            return {}
        raise Invalid("a JSON object body is required", field="body")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as Content-Type: application/json")
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise Invalid(f"the body must be a JSON object, got {type(data).__name__}", field="body")
    return data
