"""The agent embed plugin: per-tenant settings only (no routes, no hooks).

``allowed_origins`` lists the origins (``https://portal.example.com``, a port if
not 443) of the host pages that may frame the agent view; they become the page's
``Content-Security-Policy: frame-ancestors`` and the only origins its
``postMessage`` API talks to. Origins are ``https://`` — a framing page on plain
HTTP could be swapped by anyone on its network. ``allow_loopback_http`` also
accepts ``http://`` origins on loopback hosts (``localhost``, ``*.localhost``,
``127.0.0.1``, ``[::1]``), for development and tests.
"""

from __future__ import annotations

from guidepath.core.plugin_api import PluginInfo

__version__ = "0.1.0"
NAME = "agent_embed"

_HOST = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
_PORT = r"(?::[1-9][0-9]{0,4})?"
HTTPS_ORIGIN = rf"^https://{_HOST}{_PORT}$"
LOOPBACK_HTTP_ORIGIN = rf"^http://(?:localhost|{_HOST}\.localhost|127\.0\.0\.1|\[::1\]){_PORT}$"

SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "allowed_origins": {
            "type": "array", "maxItems": 20, "uniqueItems": True, "default": [],
            "description": "Origins whose pages may frame the agent view, like `https://portal.example.com` "
                           "(lower case, no path, no trailing slash; a port only when not 443). Empty: the page "
                           "cannot be framed anywhere.",
            "items": {"type": "string", "maxLength": 300,
                      "anyOf": [{"pattern": HTTPS_ORIGIN}, {"pattern": LOOPBACK_HTTP_ORIGIN}]},
        },
        "allow_loopback_http": {
            "type": "boolean", "default": False,
            "description": "Also accept `http://` origins on loopback hosts (development and tests only).",
        },
    },
    "additionalProperties": False,
}

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Embeddable agent view: lets the pages of the origins listed here frame /embed/agent "
                "(Content-Security-Policy frame-ancestors) and talk to it with postMessage.",
    builtin=True,
    default_enabled=False,
    settings_schema=SETTINGS_SCHEMA,
)
