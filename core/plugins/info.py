"""What a plugin declares about itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's identity and per-tenant settings contract.

    A plugin module exposes one as the module attribute ``PLUGIN``::

        PLUGIN = PluginInfo(
            name="hello",
            version="1.0.0",
            settings_schema={"type": "object",
                             "properties": {"greeting": {"type": "string"}},
                             "additionalProperties": False},
            default_enabled=False,
        )

    ``settings_schema`` is a JSON Schema (Draft 2020-12) that admins' settings are
    validated against; its ``default`` values fill in settings nobody has set.
    """

    name: str
    version: str = "0.0.0"
    description: str = ""
    settings_schema: dict[str, Any] = field(
        default_factory=lambda: {"type": "object", "additionalProperties": False}
    )
    default_enabled: bool = True
    #: Built-ins shipped with guidepath say so; partners' plugins leave it False.
    builtin: bool = False

    def default_settings(self) -> dict[str, Any]:
        props = self.settings_schema.get("properties", {})
        return {k: v["default"] for k, v in props.items() if isinstance(v, dict) and "default" in v}
