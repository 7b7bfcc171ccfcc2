"""Strict JSON request bodies: malformed JSON, a wrong content type or a body that
is not an object are refused with a precise message before any view code runs."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from ..domain.errors import DomainError, Invalid


class BadJSON(DomainError):
    status = 400
    code = "malformed_json"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


def json_body(*, allow_empty: bool = False) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        if allow_empty:
            return {}
        raise Invalid("a JSON object body is required", field="body")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as Content-Type: application/json")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        position = getattr(exc, "pos", None)
        where = f" at character {position}" if position is not None else ""
        raise BadJSON(f"the body is not valid JSON{where}: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise Invalid(f"the body must be a JSON object, got {type(data).__name__}", field="body")
    return data
