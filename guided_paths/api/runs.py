"""The Guided Path runs API: start, resume, answer, go back, report actions and
app outputs, abandon, hand over.

Views are thin: they open one transaction on the tenant's database and call
:mod:`~guidepath.guided_paths.run_store`, which holds the rules; after it
commits, the enabled plugins may complete the actions the run reached (hook
``perform_action``). Every view is ``@documented``: the declaration checks the
query string before the view runs and is what ``GET /api/openapi.json`` says.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify

from guidepath.core.plugin_api import (
    PAGING,
    Invalid,
    Param,
    actor_id,
    documented,
    json_body,
    page_of,
    query_args,
    require,
    tenant_ctx,
    validate,
)

from .. import run_store
from ..hooks import PathHooks
from ..plugin import tenant_apps
from ..sansio.run_state import RUN_STATUSES
from .schemas import RUN, RUN_SUMMARY

log = logging.getLogger("guidepath.guided_paths")
bp = Blueprint("guided_path_runs", __name__)

RUNS = "/api/v1/runs"

_NO_OPTIONS = {"type": "object", "description": "No options yet: send no body, or {} (fields are ignored)"}
_CONFLICTS = ("A run that is not waiting on that step (another answer came first, it moved on or finished) "
              "is a 409 (`not_current_step`, `run_finished`); nothing changes. ")
_ACTIONS = ("After it, the enabled plugins may complete the actions the run reaches (at most "
            "10 in a row), so the answer may show a later step.")


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


def _start_by(field: str) -> dict:
    """The start body naming the path by ``field`` alone: a complete object schema, so
    client generators make one typed model per way of starting a run."""
    other = "path_key" if field == "path_id" else "path_id"
    properties = {k: v for k, v in run_store.START_SCHEMA["properties"].items() if k != other}
    return {**run_store.START_SCHEMA, "title": "StartRunBy" + ("Id" if field == "path_id" else "Key"),
            "properties": properties, "required": [field]}


START_BODY = {
    "oneOf": [_start_by("path_id"), _start_by("path_key")],
    "description": "Exactly one of path_id and path_key.",
}


@bp.post(RUNS)
@require("agent")
@documented(
    "Start a run on the latest published version of a path (the run stays pinned to it)",
    description="Give exactly one of `path_id` and `path_key` (422 otherwise); a path that does not exist is "
                "404, an archived one or one not published yet 409 (`path_archived`, `not_published`). "
                "`session_id` and `customer_id` must name an existing session and customer (422), and the "
                "session's customer must be the customer given. `mode` defaults to agent with a session, "
                "else self_service, which the guided_paths setting allow_self_service may forbid (403 "
                "`self_service_disabled`). `variables` must be declared by the document, with their types. "
                + _ACTIONS,
    query=[], body=START_BODY, returns=RUN, status=201, errors=[404, 409],
)
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
@documented(
    "List runs (paginated, oldest first), without their variables, answers and history",
    query=[
        *PAGING,
        Param("session_id", {"type": "string", "maxLength": 40}, "Only the runs of this support session"),
        Param("status", {"type": "string", "enum": ["live", *RUN_STATUSES]},
              "Only runs in this status; `live`: every status of a run that is not finished"),
        Param("path_id", {"type": "string", "maxLength": 63},
              "Only runs of this path (its id or key); an unknown path lists nothing"),
    ],
    returns=page_of(RUN_SUMMARY),
)
def list_runs():
    with tenant_ctx().engine.connect() as conn:
        page = run_store.list_runs(conn, **query_args())
    return jsonify(page.as_dict())


@bp.get(f"{RUNS}/<run_id>")
@require("agent")
@documented("Get a run (resume): status, the current step rendered in the run's locale (`view`), "
            "variables, answers and the recorded history", query=[], returns=RUN)
def get_run(run_id: str):
    with tenant_ctx().engine.connect() as conn:
        run = run_store.get(conn, run_id)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/answers")
@require("agent")
@documented("Answer the step the run waits on",
            description="`step_id` names the step the caller answers; `value` must fit it (its `view` says "
                        "how: a choice among the options, a number within bounds…; 422 naming the problem, "
                        "e.g. `not_an_option`, otherwise). " + _CONFLICTS + _ACTIONS,
            query=[], body=run_store.ANSWER_SCHEMA, returns=RUN, errors=[409])
def answer_run(run_id: str):
    data = json_body()
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.answer(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/back")
@require("agent")
@documented("Undo the last answer: the run waits on that step again",
            description="With `step_id`, only if the run still waits on that step (409 otherwise); 409 "
                        "`nothing_to_undo` at the first step, `run_finished` once finished.",
            query=[], body=run_store.BACK_SCHEMA, body_required=False, returns=RUN, errors=[409])
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
            description="The run must wait on this action step. " + _CONFLICTS + _ACTIONS,
            query=[], body=run_store.ACTION_SCHEMA, body_required=False, returns=RUN, errors=[409])
def complete_action(run_id: str, step_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.complete_action(conn, env, run_id, step_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/apps/<step_id>")
@require("agent")
@documented("Report a Guided Path App's output",
            description="The app must still be on the account's allowlist with an https:// URL (409 "
                        "`app_not_allowed`) and the output must match the app's declared output_schema and "
                        "the step's output_schema (422 `invalid_output`, nothing stored). " + _CONFLICTS
                        + _ACTIONS,
            query=[], body=run_store.APP_SCHEMA, returns=RUN, errors=[409])
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
@documented("Abandon the run for good", description="409 `run_finished` once it is finished.",
            query=[], body=_NO_OPTIONS, body_required=False, returns=RUN, errors=[409])
def abandon_run(run_id: str):
    json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.abandon(conn, env, run_id)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/handover")
@require("agent")
@documented("Hand a self-service run over to the agents: attach it to a waiting support session",
            description="`session_id`, when given, must name an existing session of the run's customer (422) "
                        "that has not ended (409); without it the run's own session is used, or a new one is "
                        "opened. 409 for a run already handed over, abandoned or run by an agent.",
            query=[], body=run_store.HANDOVER_SCHEMA, body_required=False, returns=RUN, errors=[409])
def hand_over_run(run_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = run_store.hand_over(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)
