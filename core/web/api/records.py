"""CRUD endpoints for record-like objects (customers, devices), from their Resource."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain.customers import CUSTOMERS
from ...domain.devices import DEVICES
from ...domain.records import Resource
from ..auth import require
from ..body import json_body
from ..tenant import tenant_ctx
from .params import paging, reject_unknown


def resource_blueprint(resource: Resource, path: str, events: dict[str, str]) -> Blueprint:
    bp = Blueprint(path.strip("/").replace("/", "_"), __name__, url_prefix=f"/api/v1/{path}")

    def emit(conn, action: str, record: dict) -> None:
        event_type = events.get(action)
        if event_type:
            tenant_ctx().emit(conn, event_type, {f"{resource.name}_id": record["id"]})

    @bp.get("")
    @require("agent")
    def list_records():
        reject_unknown({"limit", "cursor"})
        with tenant_ctx().engine.connect() as conn:
            return jsonify(resource.list(conn, **paging()).as_dict())

    @bp.post("")
    @require("agent")
    def create_record():
        data = json_body()
        with tenant_ctx().begin() as conn:
            record = resource.create(conn, data)
            emit(conn, "created", record)
        return jsonify(record), 201

    @bp.get("/<record_id>")
    @require("agent")
    def get_record(record_id: str):
        with tenant_ctx().engine.connect() as conn:
            return jsonify(resource.get(conn, record_id))

    @bp.put("/<record_id>")
    @require("agent")
    def replace_record(record_id: str):
        data = json_body()
        with tenant_ctx().begin() as conn:
            record = resource.replace(conn, record_id, data)
            emit(conn, "updated", record)
        return jsonify(record)

    @bp.patch("/<record_id>")
    @require("agent")
    def patch_record(record_id: str):
        data = json_body()
        with tenant_ctx().begin() as conn:
            record = resource.patch(conn, record_id, data)
            emit(conn, "updated", record)
        return jsonify(record)

    @bp.delete("/<record_id>")
    @require("agent")
    def delete_record(record_id: str):
        with tenant_ctx().begin() as conn:
            resource.delete(conn, record_id)
        return "", 204

    return bp


customers_bp = resource_blueprint(CUSTOMERS, "customers", {"created": "customer.created"})
devices_bp = resource_blueprint(DEVICES, "devices", {"updated": "device.updated"})
