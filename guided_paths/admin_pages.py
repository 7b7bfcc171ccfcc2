"""The admin console's Guided Path pages: the list, the editor, the graph view.

``/admin/guided-paths`` lists the account's paths (title, key, status, latest
version, last change) with import (a JSON file) and export (download);
``/admin/guided-paths/new`` and ``/{ref}/edit`` are the JSON editor, which saves
the draft, lists the server's validation issues grouped by step (each selects its
text in the editor), publishes, archives and restores — all through the
documents API (``api/documents.py``), from ``static/path-editor.js``;
``/{ref}/graph`` draws a version (or the draft) with Graphviz (:mod:`.graph_view`).

Admins only: someone not signed in is sent to the sign-in page, an agent gets a
403 page. The menu item comes from the ``console_menu`` hook in ``plugin.py``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import Blueprint

from guidepath.core.plugin_api import (
    NotFound,
    Param,
    console_page,
    current_principal,
    page,
    query_args,
    render_page,
    tenant_ctx,
)

from . import store
from .graph_view import GraphUnavailable, render_svg, to_dot
from .plugin import limits_for, tenant_apps, tenant_registry
from .tables import MAX_VERSION

bp = Blueprint("guided_paths_admin", __name__, template_folder="templates")

ADMIN = "/admin/guided-paths"
STATUS_FILTER = Param("status", {"type": "string", "enum": ["active", "archived", "all"], "default": "all"},
                      "Which paths to list")
LIST_LIMIT = 200


def admin_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """The console's admin-page guard (sign-in page, or its 403 page), handing the view
    the signed-in admin."""

    @console_page("admin")
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(current_principal(), *args, **kwargs)

    return wrapper


@bp.get(ADMIN)
@page("Guided Paths: the account's paths, import and export (admins)", query=[STATUS_FILTER])
@admin_page
def list_page(principal: dict[str, Any]):
    status = query_args()["status"]
    with tenant_ctx().engine.connect() as conn:
        listed = store.list_paths(conn, status=None if status == "all" else status, limit=LIST_LIMIT)
    paths = sorted(listed.items, key=lambda p: p["updated_at"], reverse=True)
    return render_page("guided-paths-list.html", title="Guided Paths", page_name="guided-paths-list",
                       principal=principal, paths=paths, shown_status=status, more=listed.next is not None)


@bp.get(f"{ADMIN}/new")
@page("A new Guided Path: the JSON editor (admins)")
@admin_page
def new_page(principal: dict[str, Any]):
    return _editor(principal, None)


@bp.get(f"{ADMIN}/<path_ref>/edit")
@page("Edit a Guided Path's draft: the JSON editor with the server's validation (admins)")
@admin_page
def edit_page(principal: dict[str, Any], path_ref: str):
    ctx = tenant_ctx()
    registry, limits, apps = tenant_registry(ctx), limits_for(ctx), tenant_apps(ctx)
    with ctx.engine.connect() as conn:
        path = store.get(conn, path_ref, registry, limits=limits, known_apps=apps)
    return _editor(principal, path)


def _editor(principal: dict[str, Any], path: dict[str, Any] | None):
    title = f"Edit {path['title']}" if path else "New Guided Path"
    return render_page("guided-paths-edit.html", title=title, page_name="guided-paths-edit", principal=principal,
                       path=path, page_context={"path": path})


VERSION_QUERY = Param("version", {"type": "string", "maxLength": 12, "pattern": "^(draft|[1-9][0-9]{0,9})$"},
                      "A published version number, or `draft`; default: the latest version (the draft when "
                      "nothing is published)")


@bp.get(f"{ADMIN}/<path_ref>/graph")
@page("A Guided Path as a graph, drawn by Graphviz (admins)", query=[VERSION_QUERY])
@admin_page
def graph_page(principal: dict[str, Any], path_ref: str):
    wanted = query_args()["version"]
    ctx = tenant_ctx()
    registry, limits, apps = tenant_registry(ctx), limits_for(ctx), tenant_apps(ctx)
    with ctx.engine.connect() as conn:
        path = store.get(conn, path_ref, registry, limits=limits, known_apps=apps)
        versions = store.list_versions(conn, path["id"], limit=50).items
        if wanted is None:
            wanted = str(path["latest_version"]) if path["latest_version"] else "draft"
        if wanted == "draft":
            document, issues = path["draft"], path["issues"]
        else:
            number = int(wanted)
            if number > MAX_VERSION:
                raise NotFound(f"guided path {path['key']!r} has no version {wanted}", field="version")
            document, issues = store.get_version(conn, path["id"], number)["document"], []
    svg, problem = None, None
    try:
        svg = render_svg(to_dot(document, issues=issues))
    except GraphUnavailable as exc:
        problem = str(exc)
    steps = document.get("steps") if isinstance(document, dict) else None
    return render_page("guided-paths-graph.html", title=f"{path['title']} · graph", page_name="guided-paths-graph",
                       principal=principal, path=path, versions=versions, shown=wanted, svg=svg, problem=problem,
                       issues=issues, step_count=len(steps) if isinstance(steps, dict) else 0)
