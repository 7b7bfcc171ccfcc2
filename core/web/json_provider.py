"""Flask's JSON in and out through :mod:`guidepath.core.domain.strict_json`.

Output: every ``jsonify``/``return dict`` is RFC 8259 JSON (``allow_nan=False``); a
``NaN`` stored before input was strict is written as ``null`` and logged instead of
making the whole list unreadable for standard clients. Input: ``request.get_json()``
gets the same limits and the same precise 400 as
:func:`~guidepath.core.web.body.json_body`, should any view or plugin use it (Flask
would otherwise answer a generic "could not understand" 400).
"""

from __future__ import annotations

from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider

from ..domain import strict_json


class StrictJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.pop("allow_nan", None)
        return strict_json.dumps(obj, dumper=super().dumps, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_json.loads(s)


class StrictJSONRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, strict_json.BadJSON):
            e.field = e.field or "body"
            raise e
        return super().on_json_loading_failed(e)
