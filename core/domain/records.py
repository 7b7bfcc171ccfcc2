"""Generic CRUD over one tenant table, driven by JSON Schemas.

Customers, devices and the like differ only in their fields; this keeps their
modules to a schema and a few lines, with one well-tested implementation of
validation, keyset pagination and partial updates.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import Connection, Select, Table, func, or_, select

from .errors import Invalid, NotFound
from .ids import new_id
from .integers import parse_int
from .schemas import TIMESTAMP, object_id, output_field, response_object
from .validation import validate


MAX_PAGE = 200
DEFAULT_PAGE = 50


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


_ID = re.compile(r"[a-z]{2,4}_[0-9a-z]{26}")


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, pattern: re.Pattern[str] = _ID) -> str:
    """The value a cursor stands for (an object id unless ``pattern`` says
    otherwise); 422 for anything this API did not hand out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = ""
    if not pattern.fullmatch(value):
        raise Invalid("cursor is not one this API returned", field="cursor")
    return value


def page_limit(raw: Any) -> int:
    """``?limit=``: :data:`DEFAULT_PAGE` when absent, else ASCII digits in 1..MAX_PAGE."""
    if raw is None or raw == "":
        return DEFAULT_PAGE
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise Invalid("limit must be an integer", field="limit")
    return parse_int(raw, field="limit", minimum=1, maximum=MAX_PAGE)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_PHONE_LIKE = re.compile(r"^[+0-9 ().-]+$")


def text_search(q: str, *, names: tuple[Any, ...] = (), texts: tuple[Any, ...] = (), phone: Any = None) -> Any:
    """A WHERE clause for a search box: ``q`` (trimmed) is a case-insensitive
    substring of the joined ``names`` columns (``Ada Lovelace`` matches first and
    last name together, either alone too), of any of ``texts`` (an email), or of
    ``phone`` — whose digits also match whatever its spacing and punctuation."""
    q = q.strip()
    pattern = _like(q.lower())
    conditions = [func.lower(column).like(pattern, escape="\\") for column in (*names, *texts)]
    if len(names) > 1:
        joined = func.coalesce(names[0], "")
        for column in names[1:]:
            joined = joined + " " + func.coalesce(column, "")
        conditions.append(func.lower(joined).like(pattern, escape="\\"))
    if phone is not None:
        conditions.append(phone.like(_like(q), escape="\\"))
        digits = re.sub(r"\D", "", q)
        if _PHONE_LIKE.match(q) and len(digits) >= 3:
            bare = phone
            for char in (" ", "-", "(", ")", ".", "+"):
                bare = func.replace(bare, char, "")
            conditions.append(bare.like(f"%{digits}%"))
    return or_(*conditions)


@dataclass
class Page:
    items: list[dict[str, Any]]
    next: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next": self.next}


def keyset_page(conn: Connection, query: Select, id_column: Any, *, limit: int,
                cursor: str | None, render: Callable[[Any], dict[str, Any]]) -> Page:
    """One page of ``query`` in id order; ``next`` resumes after the page's last id.

    Ids are time-ordered (see ids.py), so id order is creation order and a page
    never skips or repeats rows inserted while a client walks the list.
    """
    query = query.order_by(id_column).limit(limit + 1)
    if cursor:
        query = query.where(id_column > decode_cursor(cursor))
    rows = conn.execute(query).all()
    items = [render(r) for r in rows[:limit]]
    return Page(items, encode_cursor(items[-1]["id"]) if len(rows) > limit else None)


def row_dict(row: Any, fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(row, name)
        out[name] = iso(value) if isinstance(value, datetime) else value
    return out


@dataclass
class Resource:
    """CRUD for one table. ``schema`` describes the writable fields."""

    table: Table
    prefix: str
    schema: dict[str, Any]
    name: str
    #: Called with (conn, record) after create/update, inside the transaction.
    on_change: list[Callable[[Connection, str, dict[str, Any]], None]] = field(default_factory=list)
    #: Fields that name another object: {field: table}; checked before writing so
    #: a dangling id is a clear 422, not a database integrity error.
    refs: dict[str, Table] = field(default_factory=dict)

    def _check_refs(self, conn: Connection, values: dict[str, Any]) -> None:
        for name, table in self.refs.items():
            value = values.get(name)
            if value is not None and conn.execute(
                select(table.c.id).where(table.c.id == value)
            ).first() is None:
                raise Invalid(f"{name.removesuffix('_id')} {value!r} does not exist", field=name)

    @property
    def writable(self) -> list[str]:
        return list(self.schema["properties"])

    @property
    def fields(self) -> list[str]:
        return ["id", *self.writable, "created_at", "updated_at"]

    def create_schema(self) -> dict[str, Any]:
        return {**self.schema, "additionalProperties": False}

    def patch_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": self.schema["properties"], "additionalProperties": False}

    def output_schema(self) -> dict[str, Any]:
        """The object as the API returns it: ``id``, every field (``null`` or ``{}``
        when unset), ``created_at`` and ``updated_at``. Its example is the create
        schema's first example as stored."""
        example_id = f"{self.prefix}_01m94ky3y6snesvaqrq64jmdpn"
        properties = {
            "id": object_id(self.prefix, example_id),
            **{k: output_field(v) for k, v in self.schema["properties"].items()},
            "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        }
        examples = None
        if self.schema.get("examples"):
            given = self.schema["examples"][0]
            stamp = TIMESTAMP["examples"][0]
            examples = [{"id": example_id,
                         **{k: given.get(k, None if self.table.c[k].nullable else {}) for k in self.writable},
                         "created_at": stamp, "updated_at": stamp}]
        return response_object(properties, description=f"A {self.name}", examples=examples)

    def list(self, conn: Connection, *, limit: int = DEFAULT_PAGE, cursor: str | None = None,
             where: list[Any] | None = None) -> Page:
        query = select(self.table)
        for clause in where or []:
            query = query.where(clause)
        return keyset_page(conn, query, self.table.c.id, limit=limit, cursor=cursor,
                           render=lambda r: row_dict(r, self.fields))

    def get(self, conn: Connection, record_id: str) -> dict[str, Any]:
        row = conn.execute(select(self.table).where(self.table.c.id == record_id)).first()
        if row is None:
            raise NotFound(f"{self.name} {record_id!r} not found", field="id")
        return row_dict(row, self.fields)

    def create(self, conn: Connection, data: Any) -> dict[str, Any]:
        validate(self.create_schema(), data)
        now = utcnow()
        values = {k: data.get(k) for k in self.writable if k in data}
        self._check_refs(conn, values)
        record_id = new_id(self.prefix)
        conn.execute(self.table.insert().values(id=record_id, created_at=now, updated_at=now, **values))
        record = self.get(conn, record_id)
        for hook in self.on_change:
            hook(conn, "created", record)
        return record

    def replace(self, conn: Connection, record_id: str, data: Any) -> dict[str, Any]:
        validate(self.create_schema(), data)
        # PUT replaces the whole object: absent fields are cleared (to {} for the
        # non-nullable JSON fields such as a device's ``extra``).
        full = {k: data.get(k, None if self.table.c[k].nullable else {}) for k in self.writable}
        return self._update(conn, record_id, full)

    def patch(self, conn: Connection, record_id: str, data: Any) -> dict[str, Any]:
        validate(self.patch_schema(), data)
        return self._update(conn, record_id, dict(data))

    def delete(self, conn: Connection, record_id: str) -> None:
        result = conn.execute(self.table.delete().where(self.table.c.id == record_id))
        if result.rowcount == 0:
            raise NotFound(f"{self.name} {record_id!r} not found", field="id")

    def _update(self, conn: Connection, record_id: str, values: dict[str, Any]) -> dict[str, Any]:
        self.get(conn, record_id)
        self._check_refs(conn, values)
        conn.execute(
            self.table.update().where(self.table.c.id == record_id).values(updated_at=utcnow(), **values)
        )
        record = self.get(conn, record_id)
        for hook in self.on_change:
            hook(conn, "updated", record)
        return record
