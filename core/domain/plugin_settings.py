"""Per-tenant plugin enablement and settings, validated by each plugin's schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ..plugins.info import PluginInfo
from .errors import Invalid
from .records import utcnow
from .schemas import response_object
from .tables import plugin_settings
from .validation import field_of, validator_for

PUT_SCHEMA = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean", "description": "Absent: unchanged"},
        "settings": {"type": "object", "description": "The whole settings object, validated against the "
                                                      "plugin's `settings_schema` (GET /api/v1/plugins/{name}); "
                                                      "absent: unchanged"},
    },
    "additionalProperties": False,
    "examples": [{"enabled": True}],
}

#: A plugin with its state for one tenant, as the API returns it.
PLUGIN_OUTPUT_SCHEMA = response_object({
    "name": {"type": "string"},
    "version": {"type": "string"},
    "description": {"type": "string"},
    "builtin": {"type": "boolean", "description": "Shipped with guidepath"},
    "enabled": {"type": "boolean", "description": "Enabled for this account"},
    "settings": {"type": "object", "description": "This account's settings, defaults filled in"},
    "settings_schema": {"type": "object", "description": "The JSON Schema (Draft 2020-12) `settings` follow"},
}, description="An installed plugin and its state for this account")


@dataclass(frozen=True)
class PluginState:
    name: str
    enabled: bool
    settings: dict[str, Any]


def stored(conn: Connection) -> dict[str, tuple[bool, dict[str, Any]]]:
    rows = conn.execute(select(plugin_settings)).all()
    return {r.plugin: (bool(r.enabled), dict(r.settings or {})) for r in rows}


def resolve(infos: list[PluginInfo], rows: dict[str, tuple[bool, dict[str, Any]]]) -> list[PluginState]:
    """Merge stored choices with each plugin's defaults."""
    states = []
    for info in infos:
        enabled, settings = rows.get(info.name, (info.default_enabled, {}))
        states.append(PluginState(info.name, enabled, {**info.default_settings(), **settings}))
    return states


def validate_settings(info: PluginInfo, settings: Any) -> None:
    errors = sorted(
        validator_for(info.settings_schema).iter_errors(settings),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        first = errors[0]
        inner = field_of(first)
        field = f"settings.{inner}" if inner else "settings"
        raise Invalid(f"{field}: {first.message} (plugin {info.name!r})", field=field)


def save(conn: Connection, info: PluginInfo, data: Any) -> PluginState:
    from .validation import validate

    validate(PUT_SCHEMA, data)
    current = stored(conn).get(info.name, (info.default_enabled, {}))
    enabled = data.get("enabled", current[0])
    settings = data.get("settings", current[1])
    validate_settings(info, settings)
    existing = conn.execute(
        select(plugin_settings.c.plugin).where(plugin_settings.c.plugin == info.name)
    ).first()
    values = {"enabled": enabled, "settings": settings, "updated_at": utcnow()}
    if existing:
        conn.execute(plugin_settings.update().where(plugin_settings.c.plugin == info.name).values(**values))
    else:
        conn.execute(plugin_settings.insert().values(plugin=info.name, **values))
    return PluginState(info.name, enabled, {**info.default_settings(), **settings})
