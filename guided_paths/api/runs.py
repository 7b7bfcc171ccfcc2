"""The Guided Path runs API: start, resume, answer, go back, report actions and
app outputs, abandon, hand over.

Views are thin: they open one transaction on the tenant's database and call
:mod:`~guidepath.guided_paths.run_store`, which holds the rules; after it
commits, the enabled plugins may complete the actions the run reached (hook
``perform_action``). Every view has an ``openapi`` attribute (a test fails for an
undocumented route).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from guidepath.core.plugin_api import (
    Invalid,
    actor_id,
    documented,
    json_body,
    paging,
    reject_unknown,
    require,
    tenant_ctx,
    validate,
)

from .. import run_store
from ..hooks import PathHooks
from ..plugin import tenant_apps

log = logging.getLogger("guidepath.guided_paths")
bp = Blueprint("guided_path_runs", __name__)

RUNS = "/api/v1/runs"



def _env() -> run_store.RunEnv:
    return run_store.RunEnv.for_tenant(tenant_ctx(), actor_id())


MAX_PLUGIN_ACTIONS = 10
"""Actions plugins may complete in a row for one request (a path of ten actions back
to back is already unusual; a cycle of them must not hold the request forever)."""

ACTION_ANSWER_SCHEMA = {**run_store.ACTION_SCHEMA, "required": ["ok", "result"]}


def _performed(run: dict[str, Any]) -> dict[str, Any]:
    """Let the enabled plugins do the actions the run reached (hook ``perform_action``).

    Each completion is its own transaction, after the caller's committed: a plugin
    reads whatever it needs (the session's device, say) with the run's step safely
    recorded, and a plugin that fails leaves the run waiting for the action, as if
    nobody handled it.
    """
    ctx = tenant_ctx()
    for _ in range(MAX_PLUGIN_ACTIONS):
        view = run.get("view") or {}
        if run.get("status") != "waiting_action" or view.get("type") != "action":
            break
        # A plugin that raises is logged with its name and skipped (the next is asked);
        # nobody answering leaves the run waiting for a host to report.
        answer = PathHooks(ctx.hooks).perform_action(ctx.tenant, view.get("action"), view.get("input"), run, ctx)
        if answer is None:
            break
        plugin_name, result = answer
        try:
            validate(ACTION_ANSWER_SCHEMA, result)
        except Invalid as exc:
            log.error("perform_action returned a bad answer", extra={"plugin": plugin_name, "error": exc.message})
            break
        env = run_store.RunEnv.for_tenant(ctx, f"plugin:{plugin_name}")
        with ctx.begin() as conn:
            run = run_store.complete_action(conn, env, run["id"], view["step_id"], result)
    return run


def _shown(run: dict[str, Any], apps: dict[str, dict[str, Any]] | None = None) -> Response:
    """The run as JSON; an ``app`` view gets the registered app (``view.app``: where
    to embed it and its schemas) or ``view.app_error`` when it may not be used
    (``app_not_allowed``) or the step's input does not fit it (``app_input_invalid``)."""
    view = run.get("view")
    if view and view.get("type") == "app":
        if apps is None:
            apps = tenant_apps(tenant_ctx())
        view["app"], view["app_error"] = run_store.app_for_view(view, apps)
    return jsonify(run)


@bp.post(RUNS)
@require("agent")
@documented("Start a run on the latest published version of a path (the run stays pinned to it)",
             body=run_store.START_SCHEMA)
def start_run():
    data = json_body()
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.start(conn, env, data)
    run = _performed(run)
    response = _shown(run)
    response.headers["Location"] = f"{RUNS}/{run['id']}"
    return response, 201


@bp.get(RUNS)
@require("agent")
@documented("List runs: ?session_id=, ?status= (a status or 'live'), ?path_id= (id or key), limit, cursor")
def list_runs():
    reject_unknown({"session_id", "status", "path_id", "limit", "cursor"})
    args = request.args
    with tenant_ctx().engine.connect() as conn:
        page = run_store.list_runs(conn, session_id=args.get("session_id") or None, status=args.get("status") or None,
                              path_id=args.get("path_id") or None, **paging())
    return jsonify(page.as_dict())


@bp.get(f"{RUNS}/<run_id>")
@require("agent")
@documented("Get a run (resume): status, the current step rendered in the run's locale (`view`), "
             "variables, answers and the recorded history")
def get_run(run_id: str):
    with tenant_ctx().engine.connect() as conn:
        run = run_store.get(conn, run_id)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/answers")
@require("agent")
@documented("Answer the step the run waits on; 409 if it waits on another step",
             body=run_store.ANSWER_SCHEMA)
def answer_run(run_id: str):
    data = json_body()
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.answer(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/back")
@require("agent")
@documented("Undo the last answer: the run waits on that step again", body=run_store.BACK_SCHEMA, body_required=False)
def back_run(run_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.back(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/actions/<step_id>")
@require("agent")
@documented("Report the result of the action the run waits on (ok=false continues at on_error)",
             body=run_store.ACTION_SCHEMA)
def complete_action(run_id: str, step_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.complete_action(conn, env, run_id, step_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/apps/<step_id>")
@require("agent")
@documented("Report a Guided Path App's output: the app must be on the tenant's allowlist (409 "
             "app_not_allowed) and the output must match the app's declared output_schema and the "
             "step's output_schema (422 invalid_output, nothing stored)",
             body=run_store.APP_SCHEMA)
def complete_app(run_id: str, step_id: str):
    data = json_body()
    env = _env()
    apps = tenant_apps(tenant_ctx())
    with tenant_ctx().begin() as conn:
        run = run_store.complete_app(conn, env, run_id, step_id, data, apps)
    run = _performed(run)
    return _shown(run, apps)


@bp.post(f"{RUNS}/<run_id>/abandon")
@require("agent")
@documented("Abandon the run for good")
def abandon_run(run_id: str):
    json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.abandon(conn, env, run_id)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/handover")
@require("agent")
@documented("Hand a self-service run over to the agents: attach it to a waiting support session",
             body=run_store.HANDOVER_SCHEMA, body_required=False)
def hand_over_run(run_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.hand_over(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)
