"""The app's ``int`` URL converter: ASCII digits within signed 64 bits.

Werkzeug's own accepts any Unicode decimal digit (``\\d``) and any size, so
``/versions/9223372036854775808`` reached SQLite and overflowed (a 500). Installed as
``int`` app-wide by the factory before any blueprint is registered, it bounds every
``<int:…>`` route — plugins' too — without their code changing: a value out of range
does not match the route (404), like any other malformed path.
"""

from __future__ import annotations

import builtins
from typing import Any

from werkzeug.routing import IntegerConverter, Map, ValidationError

from ..domain.integers import INT64_MAX, INT64_MIN, MAX_DIGITS


class Int64Converter(IntegerConverter):
    regex = r"[0-9]+"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        low = INT64_MIN if signed else 0
        super().__init__(map, fixed_digits=fixed_digits,
                         min=low if min is None else builtins.max(min, low),
                         max=INT64_MAX if max is None else builtins.min(max, INT64_MAX), signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value) - value.startswith("-") > MAX_DIGITS:
            raise ValidationError()  # before int(): no 4,300-digit ValueError dance
        return super().to_python(value)

