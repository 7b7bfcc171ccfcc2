"""The demo Guided Paths that ``guidepath run --demo`` (``make run``) publishes.

Three realistic troubleshooting flows ship as JSON documents in ``demo_paths/``:
"Phone won't charge" (English and German), "Wi-Fi keeps dropping" and "Set up
email on a new phone". Between them they use every kind of question, decisions
with strict comparisons, the ``diagnostics.collect`` action, messages and all
three end outcomes. They are imported through :mod:`.store` exactly as an admin's
upload would be, so the demo is also a check that the documents are valid.

The kernel never imports this module: the plugin's ``seed_demo`` hook calls
:func:`seed_demo_paths` for the demo tenant.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from . import store
from .plugin import limits_for, tenant_apps, tenant_registry

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import Kernel, Tenant, TenantContext

DEMO_ACTOR = "demo"


def demo_documents() -> list[dict]:
    """The demo documents, sorted by file name."""
    folder = resources.files(__package__) / "demo_paths"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    return [json.loads(f.read_text("utf-8")) for f in files]


def seed_demo_paths(ctx: TenantContext) -> list[dict]:
    """Import and publish the demo paths for ``ctx``'s tenant, in one transaction.

    Idempotent: a path whose latest version already equals its demo document is
    left alone, so running the demo twice adds no versions. Returns the paths.
    """
    registry = tenant_registry(ctx)
    limits = limits_for(ctx)
    apps = tenant_apps(ctx)
    paths = []
    with ctx.begin() as conn:
        for document in demo_documents():
            result = store.import_document(conn, document, registry, actor=DEMO_ACTOR, emit=ctx.emit,
                                           publish_it=True, limits=limits, known_apps=apps)
            paths.append(result.path)
    return paths


def seed(kernel: Kernel, tenant: Tenant) -> list[dict]:
    """:func:`seed_demo_paths` for a tenant record (scripts, tests)."""
    return seed_demo_paths(kernel.context(tenant))
