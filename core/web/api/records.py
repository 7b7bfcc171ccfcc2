"""CRUD endpoints for record-like objects (customers, devices), from their Resource."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain.customers import CUSTOMERS
from ...domain.devices import DEVICES
from ...domain.records import Resource
from ..auth import require
from ..body import json_body
from ..contract import PAGING, documented, page_of, query_args
from ..tenant import tenant_ctx


def resource_blueprint(resource: Resource, path: str, events: dict[str, str]) -> Blueprint:
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
    @documented(f"List {path} (paginated, oldest first)", query=PAGING, returns=page_of(output))
    def list_records():
        with tenant_ctx().engine.connect() as conn:
            return jsonify(resource.list(conn, **query_args()).as_dict())

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


customers_bp = resource_blueprint(CUSTOMERS, "customers", {"created": "customer.created"})
devices_bp = resource_blueprint(DEVICES, "devices", {"updated": "device.updated"})
