"""The partner API: everything a guidepath plugin may import, in one module.

Plugins — partners' and the built-in ones alike — import from here and nowhere
else in ``guidepath.core`` (``tests/test_dependency_rules.py`` enforces it for the
built-ins, Guided Paths and the example plugins)::

    from guidepath.core.plugin_api import PluginInfo, hookimpl, require, tenant_ctx

**Stability.** Every name in ``__all__`` is stable within a major
:data:`API_VERSION`: it keeps its meaning and signature; additions bump the minor
version; a removal or an incompatible change comes only with a new major version,
after a deprecation warning for at least one minor release and a note in
``CHANGELOG.md``. Modules of ``guidepath.core`` not re-exported here are internal
and may change in any release. The hooks themselves are specified in
``guidepath.core.hookspecs`` (and a feature's own ``hookspecs`` module); their
reference is ``docs/plugins.md``.

Must stay a list of re-exports: no code of its own, so there is one definition
of each name.

.. versionadded:: 1.0
"""

from __future__ import annotations

# -- plugins and hooks --------------------------------------------------------
from .plugins import CallRecord, PluginError, PluginInfo, PluginManager, TenantHooks, hookimpl

# For a feature that lets other plugins extend it: its own ``hookspecs`` module
# marks specs with this and adds them in ``register_hookspecs``. Plugins that only
# implement hooks never need it.
from .plugins.markers import _hookspec as hookspec

# -- tenants and the kernel ----------------------------------------------------
from .config import Config
from .kernel import Kernel
from .tenancy.context import TenantContext
from .console.access import console_page
from .console.records import ConsoleLink, SessionPanel
from .console.rendering import render_page
from .tenancy.directory import Tenant

# -- events --------------------------------------------------------------------
from .events import Event, EventType

# -- sealing small secrets under a tenant's data key (``kernel.data_key(tenant)``) ---
from .crypto import DecryptionError, open_sealed, seal

# -- errors: raise one to refuse with a reason (HTTP status and stable body) ------
from .domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Locked,
    NotFound,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)

# -- the shared domain: support sessions, customers, devices, audit ---------------
from .domain import audit, session_states, support_sessions
from .domain import tables as domain_tables
from .domain.customers import CUSTOMERS
from .domain.devices import DEVICES
from .domain.ids import new_id
from .domain.integers import parse_int
from .domain.records import (
    DEFAULT_PAGE,
    Page,
    decode_cursor,
    encode_cursor,
    iso,
    keyset_page,
    page_limit,
    utcnow,
)
from .domain.validation import validate

# -- tenant tables and files ---------------------------------------------------------
from .db.metadata import tenant_metadata
from .files import FileInfo, TenantFiles

# -- web: routes, requests, the OpenAPI document ------------------------------------
from .web.api.params import int_param, paging, reject_unknown, timestamp
from .web.auth import actor_id, current_principal, require
from .web.body import BadJSON, json_body, parse_json
from .web.contract import PAGING, Param, documented, page, page_of, query_args
from .web.tenant import tenant_ctx

# -- the command line ----------------------------------------------------------------
from .cli.context import CliState, pass_state, tenant_option
from .cli.output import echo_table

#: The partner API's version: ``major.minor`` (see the stability note above).
API_VERSION = "1.1"

__all__ = [
    "API_VERSION",
    "BadJSON",
    "CUSTOMERS",
    "CallRecord",
    "CliState",
    "Config",
    "Conflict",
    "ConsoleLink",
    "console_page",
    "DEFAULT_PAGE",
    "DEVICES",
    "DecryptionError",
    "DomainError",
    "Event",
    "EventType",
    "FileInfo",
    "Forbidden",
    "Invalid",
    "Kernel",
    "Locked",
    "NotFound",
    "Page",
    "PAGING",
    "Param",
    "SessionPanel",
    "PluginError",
    "PluginInfo",
    "PluginManager",
    "Tenant",
    "TenantContext",
    "TenantFiles",
    "TenantHooks",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMediaType",
    "actor_id",
    "audit",
    "current_principal",
    "decode_cursor",
    "documented",
    "domain_tables",
    "echo_table",
    "encode_cursor",
    "hookimpl",
    "hookspec",
    "int_param",
    "iso",
    "json_body",
    "keyset_page",
    "new_id",
    "open_sealed",
    "page",
    "page_limit",
    "page_of",
    "paging",
    "parse_int",
    "parse_json",
    "pass_state",
    "query_args",
    "reject_unknown",
    "render_page",
    "require",
    "seal",
    "session_states",
    "support_sessions",
    "tenant_ctx",
    "tenant_option",
    "tenant_metadata",
    "timestamp",
    "utcnow",
    "validate",
]
