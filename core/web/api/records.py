"""CRUD endpoints for record-like objects (customers, devices), from their Resource."""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, jsonify

from ...domain.customers import CUSTOMERS
from ...domain.devices import DEVICES
from ...domain.records import Resource, text_search
from ..auth import require
from ..body import json_body
from ..contract import PAGING, Param, documented, page_of, query_args
from ..tenant import tenant_ctx


def resource_blueprint(resource: Resource, path: str, events: dict[str, str],
                       search: tuple[Param, Callable[[str], Any]] | None = None) -> Blueprint:
    """CRUD routes for ``resource``; ``search`` adds a text filter to the list: its
    declared ``?q=`` parameter and the function turning a value into a WHERE clause."""
    bp = Blueprint(path.strip("/").replace("/", "_"), __name__, url_prefix=f"/api/v1/{path}")
    name, output = resource.name, resource.output_schema()
    create_schema, patch_schema = resource.create_schema(), resource.patch_schema()
    refs = "".join(f" `{field}` must name an existing {field.removesuffix('_id')} (422 otherwise)."
                   for field in resource.refs)

    def emit(conn, action: str, record: dict) -> None:
        event_type = events.get(action)
        if event_type:
            tenant_ctx().emit(conn, event_type, {f"{resource.name}_id": record["id"]})

    @bp.get("")
    @require("agent")
    @documented(f"List {path} (paginated, oldest first)", query=[*PAGING, *([search[0]] if search else [])],
                returns=page_of(output))
    def list_records():
        args = dict(query_args())
        q = args.pop("q", None)
        where = [search[1](q)] if search and q and q.strip() else None
        with tenant_ctx().engine.connect() as conn:
            return jsonify(resource.list(conn, where=where, **args).as_dict())

    @bp.post("")
    @require("agent")
    @documented(f"Create a {name}", description=f"Fields left out are null.{refs}", query=[],
                body=create_schema, returns=output, status=201)
    def create_record():
        data = json_body()
        with tenant_ctx().begin() as conn:
            record = resource.create(conn, data)
            emit(conn, "created", record)
        return jsonify(record), 201

    @bp.get("/<record_id>")
    @require("agent")
    @documented(f"Get a {name}", query=[], returns=output)
    def get_record(record_id: str):
        with tenant_ctx().engine.connect() as conn:
            return jsonify(resource.get(conn, record_id))

    @bp.put("/<record_id>")
    @require("agent")
    @documented(f"Replace a {name}", description=f"Fields left out are cleared (null, or {{}} for objects).{refs}",
                query=[], body=create_schema, returns=output)
    def replace_record(record_id: str):
        data = json_body()
        with tenant_ctx().begin() as conn:
            record = resource.replace(conn, record_id, data)
            emit(conn, "updated", record)
        return jsonify(record)

    @bp.patch("/<record_id>")
    @require("agent")
    @documented(f"Update some fields of a {name}", description=f"Fields left out keep their value.{refs}",
                query=[], body=patch_schema, returns=output)
    def patch_record(record_id: str):
        data = json_body()
        with tenant_ctx().begin() as conn:
            record = resource.patch(conn, record_id, data)
            emit(conn, "updated", record)
        return jsonify(record)

    @bp.delete("/<record_id>")
    @require("agent")
    @documented(f"Delete a {name}", query=[], status=204)
    def delete_record(record_id: str):
        with tenant_ctx().begin() as conn:
            resource.delete(conn, record_id)
        return "", 204

    return bp


_customers = CUSTOMERS.table.c
CUSTOMER_SEARCH = Param(
    "q", {"type": "string", "maxLength": 200},
    "Search: customers whose first or last name (or both, `Ada Lovelace`), email or phone contains this text, "
    "case-insensitive (phone digits match whatever the spacing). Empty: every customer.")
customers_bp = resource_blueprint(
    CUSTOMERS, "customers", {"created": "customer.created"},
    search=(CUSTOMER_SEARCH, lambda q: text_search(q, names=(_customers.first_name, _customers.last_name),
                                                  texts=(_customers.email,), phone=_customers.phone)))
devices_bp = resource_blueprint(DEVICES, "devices", {"updated": "device.updated"})
