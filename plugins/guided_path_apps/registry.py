"""The tenant's registered Guided Path Apps, in its database.

Plain functions over a tenant connection (the caller owns the transaction), like
``guidepath.core.domain``. Everything an admin sends is checked before anything is
written: the body's shape (JSON Schema, errors name the field), the URL (see
:mod:`.origins`) and both declared schemas (they must be valid JSON Schemas,
2020-12), so a refused request changes nothing.

An app is known by its id (``gpa_…``) or its key, which is what ``app`` steps
name in ``app_id``.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import Connection, select

from guidepath.core.plugin_api import (
    DEFAULT_PAGE,
    Conflict,
    Invalid,
    NotFound,
    Page,
    audit,
    iso,
    keyset_page,
    new_id,
    utcnow,
    validate,
)

from .origins import app_origin, usable_problem
from .tables import guided_path_apps

KEY_PATTERN = "^[a-z0-9][a-z0-9._-]{0,63}$"
_ID = re.compile(r"gpa_[0-9a-z]{26}")
_SCHEMA = {"type": ["object", "boolean"], "description": "A JSON Schema (2020-12)"}

APP_SCHEMA = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "pattern": KEY_PATTERN,
                "description": "What app steps name in app_id: lowercase letters, digits, '.', '_', '-'"},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "url": {"type": "string", "minLength": 1, "maxLength": 2048,
                "description": "https:// page embedded in a sandboxed iframe"},
        "input_schema": {**_SCHEMA, "description": "JSON Schema of the context input the app accepts"},
        "output_schema": {**_SCHEMA, "description": "JSON Schema every output must match (checked on the server)"},
    },
    "required": ["key", "title", "url", "input_schema", "output_schema"],
    "additionalProperties": False,
}
PATCH_SCHEMA = {**APP_SCHEMA, "required": []}

_FIELDS = ("key", "title", "url", "input_schema", "output_schema")


def _check_schema(schema: Any, field: str) -> None:
    try:
        Draft202012Validator.check_schema(schema)
        Draft202012Validator(schema).is_valid(None)  # compiles patterns and refs
    except SchemaError as exc:
        where = ".".join(str(p) for p in exc.absolute_path)
        raise Invalid(f"{field}{'.' + where if where else ''} is not a valid JSON Schema: {exc.message}",
                      field=field + (f".{where}" if where else "")) from None
    except Exception as exc:  # noqa: BLE001 - a regex the engine rejects, an unresolvable $ref
        raise Invalid(f"{field} cannot be used as a JSON Schema: {exc}", field=field) from None


def check(data: Any, *, allow_loopback_http: bool) -> dict[str, Any]:
    """The validated values to store, with ``origin`` derived from ``url``."""
    validate(APP_SCHEMA, data)
    origin = app_origin(data["url"], allow_loopback_http=allow_loopback_http)
    _check_schema(data["input_schema"], "input_schema")
    _check_schema(data["output_schema"], "output_schema")
    return {**{k: data[k] for k in _FIELDS}, "origin": origin}


def describe(row: Any, *, allow_loopback_http: bool | None = None) -> dict[str, Any]:
    out = {
        "id": row.id, "key": row.key, "title": row.title, "url": row.url, "origin": row.origin,
        "input_schema": row.input_schema, "output_schema": row.output_schema,
        "created_by": row.created_by, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
    }
    if allow_loopback_http is not None:
        out["usable"] = usable_problem(row.url, allow_loopback_http=allow_loopback_http) is None
    return out


def _row(conn: Connection, ref: str, *, lock: bool = False) -> Any:
    t = guided_path_apps
    if not isinstance(ref, str) or len(ref) > 64:
        row = None
    else:
        query = select(t).where(t.c.id == ref if _ID.fullmatch(ref) else t.c.key == ref)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"there is no Guided Path App {ref!r}", field="id")
    return row


def _refuse_taken(conn: Connection, key: str, other_than: str | None = None) -> None:
    t = guided_path_apps
    found = conn.execute(select(t.c.id).where(t.c.key == key)).first()
    if found is not None and found.id != other_than:
        raise Conflict(f"an app with key {key!r} is already registered; choose another key or change that one",
                       field="key", code="key_taken")


def list_apps(conn: Connection, *, limit: int = DEFAULT_PAGE, cursor: str | None = None,
              allow_loopback_http: bool | None = None) -> Page:
    t = guided_path_apps
    return keyset_page(conn, select(t), t.c.id, limit=limit, cursor=cursor,
                       render=lambda r: describe(r, allow_loopback_http=allow_loopback_http))


def all_apps(conn: Connection) -> list[Any]:
    return conn.execute(select(guided_path_apps).order_by(guided_path_apps.c.key)).all()


def get(conn: Connection, ref: str, *, allow_loopback_http: bool | None = None) -> dict[str, Any]:
    return describe(_row(conn, ref), allow_loopback_http=allow_loopback_http)


def create(conn: Connection, data: Any, *, actor: str | None, allow_loopback_http: bool) -> dict[str, Any]:
    values = check(data, allow_loopback_http=allow_loopback_http)
    _refuse_taken(conn, values["key"])
    now = utcnow()
    app_id = new_id("gpa")
    conn.execute(guided_path_apps.insert().values(id=app_id, **values, created_by=actor,
                                                  created_at=now, updated_at=now))
    audit.record(conn, actor, "guided_path_app.registered", app_id, {"key": values["key"], "origin": values["origin"]})
    return get(conn, app_id, allow_loopback_http=allow_loopback_http)


def replace(conn: Connection, ref: str, data: Any, *, actor: str | None, allow_loopback_http: bool) -> dict[str, Any]:
    row = _row(conn, ref, lock=True)
    values = check(data, allow_loopback_http=allow_loopback_http)
    _refuse_taken(conn, values["key"], other_than=row.id)
    conn.execute(guided_path_apps.update().where(guided_path_apps.c.id == row.id)
                 .values(**values, updated_at=utcnow()))
    audit.record(conn, actor, "guided_path_app.changed", row.id, {"key": values["key"], "origin": values["origin"]})
    return get(conn, row.id, allow_loopback_http=allow_loopback_http)


def patch(conn: Connection, ref: str, data: Any, *, actor: str | None, allow_loopback_http: bool) -> dict[str, Any]:
    validate(PATCH_SCHEMA, data)
    row = _row(conn, ref, lock=True)
    merged = {**{k: getattr(row, k) for k in _FIELDS}, **data}
    return replace(conn, row.id, merged, actor=actor, allow_loopback_http=allow_loopback_http)


def delete(conn: Connection, ref: str, *, actor: str | None) -> None:
    row = _row(conn, ref, lock=True)
    conn.execute(guided_path_apps.delete().where(guided_path_apps.c.id == row.id))
    audit.record(conn, actor, "guided_path_app.removed", row.id, {"key": row.key})
