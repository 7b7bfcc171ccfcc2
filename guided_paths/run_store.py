"""Runs in a tenant's database: the pure :mod:`.sansio.runner` with persistence around it.

Every change to a run — start, answer, back, an action's or an app's result,
abandon, hand-over — happens in the caller's one transaction: the run row (its
:class:`~.runner.RunState` as JSON), the new rows of the recorded history
(``guided_path_run_steps``) and the events (``run.*``, through the outbox) are
written together or not at all. The runner refuses bad input before anything is
written, so a refused request changes nothing.

Concurrency: the run row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
transactions are serialized by ``BEGIN IMMEDIATE``) and every answer names the
step it answers, so of two answers racing for the same step the second finds the
run elsewhere and gets a 409 ``not_current_step``.

Hand-over: a self-service run that reaches an ``escalate`` end (or a customer who
asks for help with ``POST /api/v1/runs/{id}/handover``) is attached to a support
session in state ``waiting`` — the run's own session, or a new one — so an agent
picks it up with the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

from sqlalchemy import Connection, func, select

from guidepath.core.plugin_api import (
    DEFAULT_PAGE,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Page,
    iso,
    keyset_page,
    new_id,
    domain_tables,
    session_states,
    support_sessions,
    utcnow,
)
from guidepath.core.plugin_api import validate

from . import store
from .plugin import settings, tenant_registry
from .sansio import runner
from .sansio.answers import schema_error
from .sansio.rendering import localize, negotiate_locale, render_view, step_type_of
from .sansio.run_state import FINISHED_STATUSES, RUN_STATUSES
from .sansio.runner import AnswerError, RunnerError, RunState
from .tables import (
    RUN_MODES, guided_path_media, guided_path_run_steps, guided_path_runs, guided_path_versions, guided_paths,
)

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import TenantContext

    from .sansio.step_types import StepTypeRegistry

Emit = Callable[[Connection, str, dict[str, Any]], None]

SELF_SERVICE, AGENT = RUN_MODES
LIVE_STATUSES = tuple(status for status in RUN_STATUSES if status not in FINISHED_STATUSES)

_ID = {"type": "string", "minLength": 1, "maxLength": 63}
_REF = {"type": ["string", "null"], "maxLength": 40}

START_SCHEMA = {
    "type": "object",
    "properties": {
        "path_id": {"type": "string", "maxLength": 40, "description": "The path's id (gp_…); or path_key"},
        "path_key": {"type": "string", "maxLength": 63, "description": "The path's key (its document id)"},
        "session_id": _REF,
        "customer_id": _REF,
        "variables": {"type": "object", "description": "Initial values of declared variables"},
        "mode": {"enum": list(RUN_MODES), "description": "Default: agent with a session_id, else self_service"},
        "locale": {"type": "string", "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", "maxLength": 35},
    },
    "additionalProperties": False,
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"step_id": _ID, "value": {"description": "Depends on the step: see the run's view"}},
    "required": ["step_id", "value"],
    "additionalProperties": False,
}
ACTION_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean", "default": True},
                   "result": {"type": "object", "description": "Stored in the step's store_as variable"}},
    "additionalProperties": False,
}
APP_SCHEMA = {
    "type": "object",
    "properties": {"output": {"description": "Validated against the step's output_schema"}},
    "required": ["output"],
    "additionalProperties": False,
}
BACK_SCHEMA = {
    "type": "object",
    "properties": {"step_id": {**_ID, "description": "The step the caller sees; 409 if the run moved on"}},
    "additionalProperties": False,
}
HANDOVER_SCHEMA = {
    "type": "object",
    "properties": {"session_id": {"type": "string", "maxLength": 40,
                                  "description": "An existing session to attach; default: the run's, or a new one"}},
    "additionalProperties": False,
}

# The runner's refusals that mean "the run is not where you think": 409, not 422.
_CONFLICT_CODES = frozenset({"not_current_step", "run_finished", "nothing_to_undo"})


@dataclass(frozen=True)
class RunEnv:
    """What a run needs besides the database: step types, the event sink, who acts,
    and the tenant's settings."""

    registry: StepTypeRegistry
    emit: Emit
    actor: str | None = None
    allow_self_service: bool = True
    handover_on_escalate: bool = True

    @classmethod
    def for_tenant(cls, ctx: TenantContext, actor: str | None) -> RunEnv:
        """Read before opening a transaction (plugin settings may need a connection)."""
        chosen = settings(ctx)
        return cls(tenant_registry(ctx), ctx.emit, actor, chosen["allow_self_service"],
                   chosen["handover_on_escalate"])


def domain_error(exc: RunnerError) -> DomainError:
    if isinstance(exc, AnswerError):
        cls = Conflict if exc.code in _CONFLICT_CODES else Invalid
    else:  # the document cannot go on from here: not the caller's input
        cls = Conflict
    return cls(exc.message, field=exc.field, code=exc.code)


# -- reading ------------------------------------------------------------------------


def _load(conn: Connection, run_id: str, *, lock: bool = False) -> Any:
    t = guided_path_runs
    query = select(t).where(t.c.id == run_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first() if isinstance(run_id, str) and len(run_id) <= 40 else None
    if row is None:
        raise NotFound(f"run {run_id!r} not found", field="id")
    return row


def _summary(row: Any, state: RunState) -> dict[str, Any]:
    return {
        "id": row.id,
        "path_id": row.path_id,
        "path_key": state.path_id,
        "version": row.version,
        "session_id": row.session_id,
        "customer_id": row.customer_id,
        "mode": row.mode,
        "status": row.status,
        "outcome": row.outcome,
        "locale": row.locale,
        "current_step": state.current_step,
        "current_path_key": None if state.finished else state.current_path_id,
        "started_by": row.started_by,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "completed_at": iso(row.completed_at),
        "handed_over_at": iso(row.handed_over_at),
    }


def get(conn: Connection, run_id: str, *, history: bool = True) -> dict[str, Any]:
    """A run as the API shows it: where it is, what it shows now (``view``, in the
    run's locale), its variables and answers, and its recorded history."""
    row = _load(conn, run_id)
    state = RunState.from_dict(row.state)
    document = store.version_document(conn, row.path_id, row.version)
    out = {
        **_summary(row, state),
        "path_title": localize(document.get("title"), row.locale, document.get("locales")),
        "variables": state.variables,
        "answers": state.answers,
        "can_go_back": state.can_go_back,
        "view": render_view(document, state, row.locale, _subpath_documents(conn, document, state)),
    }
    _describe_media(conn, out["view"])
    if history:
        t = guided_path_run_steps
        rows = conn.execute(select(t).where(t.c.run_id == row.id).order_by(t.c.seq)).all()
        out["history"] = [{"seq": r.seq, "path_key": r.path_key, "step_id": r.step_id, "event": r.event,
                           "at": iso(r.at), "value": r.value} for r in rows]
    return out


MEDIA_URL = "/api/v1/guided-paths/media/{file_id}"


def _describe_media(conn: Connection, view: dict[str, Any] | None) -> None:
    """Give each media item of a message view its ``url`` and ``content_type``
    (``None`` for a file that is no longer there)."""
    media = view.get("media") if view else None
    if not media:
        return
    ids = [m["file_id"] for m in media if isinstance(m.get("file_id"), str)]
    t = guided_path_media
    types = dict(conn.execute(select(t.c.file_id, t.c.content_type).where(t.c.file_id.in_(ids))).all())
    for item in media:
        content_type = types.get(item.get("file_id"))
        item["content_type"] = content_type
        item["url"] = MEDIA_URL.format(file_id=item["file_id"]) if content_type else None


def list_runs(conn: Connection, *, session_id: str | None = None, status: str | None = None,
              path_id: str | None = None, limit: int = DEFAULT_PAGE, cursor: str | None = None) -> Page:
    """Runs oldest first, without variables, answers or history; ``status`` may be
    ``live`` (not finished)."""
    t = guided_path_runs
    query = select(t)
    if session_id is not None:
        query = query.where(t.c.session_id == session_id)
    if status == "live":
        query = query.where(t.c.status.in_(LIVE_STATUSES))
    elif status is not None:
        if status not in RUN_STATUSES:
            raise Invalid(f"status must be 'live' or one of {', '.join(RUN_STATUSES)}", field="status")
        query = query.where(t.c.status == status)
    if path_id is not None:
        try:
            query = query.where(t.c.path_id == store.path_id_for(conn, path_id))
        except NotFound:
            return Page([], None)
    return keyset_page(conn, query, t.c.id, limit=limit, cursor=cursor,
                       render=lambda r: _summary(r, RunState.from_dict(r.state)))


# -- transitions ---------------------------------------------------------------------


def start(conn: Connection, env: RunEnv, data: Any) -> dict[str, Any]:
    """Start a run on the latest published version of a path (pinned to it)."""
    validate(START_SCHEMA, data)
    if ("path_id" in data) == ("path_key" in data):
        raise Invalid("give either path_id or path_key (not both)", field="path_id")
    ref_field = "path_id" if "path_id" in data else "path_key"
    try:
        path = store.path_row(conn, data[ref_field])
    except NotFound:
        raise NotFound(f"guided path {data[ref_field]!r} not found", field=ref_field) from None
    if path.status == store.ARCHIVED:
        raise Conflict(f"guided path {path.key!r} is archived; restore it to start runs",
                       field=ref_field, code="path_archived")
    if path.latest_version is None:
        raise Conflict(f"guided path {path.key!r} has no published version yet; publish it first",
                       field=ref_field, code="not_published")

    session_id, customer_id = data.get("session_id"), data.get("customer_id")
    if customer_id is not None and conn.execute(
        select(domain_tables.customers.c.id).where(domain_tables.customers.c.id == customer_id)
    ).first() is None:
        raise Invalid(f"customer {customer_id!r} does not exist", field="customer_id")
    if session_id is not None:
        session = _session(conn, session_id)
        if customer_id is None:
            customer_id = session["customer_id"]
        elif session["customer_id"] not in (None, customer_id):
            raise Invalid("the session belongs to another customer", field="customer_id")
    mode = data.get("mode") or (AGENT if session_id else SELF_SERVICE)
    if mode == SELF_SERVICE and not env.allow_self_service:
        raise Forbidden("self-service runs are switched off for this account (plugin setting "
                        "allow_self_service)", field="mode", code="self_service_disabled")

    document = store.version_document(conn, path.id, path.latest_version)
    now = utcnow()
    try:
        state = runner.start(document, version=path.latest_version, variables=data.get("variables"),
                             now=iso(now), load_path=_loader(conn), step_types=env.registry)
    except RunnerError as exc:
        raise domain_error(exc) from None
    run_id = new_id("run")
    conn.execute(guided_path_runs.insert().values(
        id=run_id, path_id=path.id, version=path.latest_version, session_id=session_id,
        customer_id=customer_id, mode=mode, status=state.status, outcome=state.outcome,
        locale=negotiate_locale(data.get("locale"), document.get("locales")),
        state=state.to_dict(), started_by=env.actor, created_at=now, updated_at=now,
        completed_at=now if state.finished else None,
    ))
    row = _load(conn, run_id)
    env.emit(conn, "run.started", {
        "run_id": run_id, "path_id": path.id, "path_key": path.key, "version": path.latest_version,
        "session_id": session_id, "customer_id": customer_id, "mode": mode,
    })
    _after(conn, env, row, document, None, state, now)
    return get(conn, run_id)


def answer(conn: Connection, env: RunEnv, run_id: str, data: Any) -> dict[str, Any]:
    validate(ANSWER_SCHEMA, data)
    return _transition(conn, env, run_id, lambda doc, state, now, loader: runner.answer(
        doc, state, data["step_id"], data["value"], now=now, load_path=loader, step_types=env.registry))


def complete_action(conn: Connection, env: RunEnv, run_id: str, step_id: str, data: Any) -> dict[str, Any]:
    validate(ACTION_SCHEMA, data)
    return _transition(conn, env, run_id, lambda doc, state, now, loader: runner.complete_action(
        doc, state, step_id, data.get("result", {}), ok=data.get("ok", True), now=now, load_path=loader,
        step_types=env.registry))


def complete_app(conn: Connection, env: RunEnv, run_id: str, step_id: str, data: Any,
                 apps: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Take an app's output. ``apps`` is the tenant's allowlist (``{app_id: app}``):
    the step's app must be on it (else 409 ``app_not_allowed``) and the output must
    match the app's declared ``output_schema`` as well as the step's own, all before
    anything reaches the variables."""
    validate(APP_SCHEMA, data)
    allowed = apps or {}

    def complete(doc: dict, state: RunState, now: str, loader: Any) -> RunState:
        step = runner.waiting_step(doc, state) if (
            state.status == "waiting_app" and state.current_step == step_id) else None
        if step is not None:  # otherwise the runner names what the run waits for
            app = allowed.get(step.get("app_id"))
            problem = app_problem(step.get("app_id"), app)
            if problem is not None:
                raise Conflict(problem, field="step_id", code="app_not_allowed")
            error = schema_error(app.get("output_schema", True), data["output"])
            if error is not None:
                where, message = error
                raise AnswerError("invalid_output", f"the output does not match the output_schema "
                                  f"app {step['app_id']!r} declares: {message}",
                                  "output" + (f"/{where}" if where else ""))
        return runner.complete_app(doc, state, step_id, data["output"], now=now, load_path=loader,
                                   step_types=env.registry)

    return _transition(conn, env, run_id, complete)


def app_problem(app_id: Any, app: Mapping[str, Any] | None) -> str | None:
    """Why the app an ``app`` step names may not be used now, or ``None``."""
    if app is None:
        return (f"app {app_id!r} is not registered for this account (any more); an admin registers "
                "Guided Path Apps with POST /api/v1/guided-path-apps")
    if app.get("error"):
        return f"app {app_id!r} cannot be used: {app['error']}"
    return None


def app_input_problem(app_id: Any, app: Mapping[str, Any], app_input: Any) -> str | None:
    """Why the input an ``app`` step hands its app (the step's evaluated ``input``,
    ``{}`` without one) does not match the ``input_schema`` the app declares, or
    ``None``. Checked where the app is shown: an input built from variables is only
    known then (a constant one is already checked at publish)."""
    error = schema_error(app.get("input_schema", True), {} if app_input is None else app_input)
    if error is None:
        return None
    where, message = error
    return (f"the step's input does not match the input_schema app {app_id!r} declares"
            f"{f' at /{where}' if where else ''}: {message}")


APP_VIEW_FIELDS = ("app_id", "title", "url", "origin", "input_schema", "output_schema")


def app_for_view(view: Mapping[str, Any], apps: Mapping[str, Mapping[str, Any]]
                 ) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """For a run's ``app`` view and the tenant's allowlist: ``(app, None)`` with
    what a host needs to embed the app (where, and its schemas), or ``(None,
    {"code", "message"})``: ``app_not_allowed`` when the app may not be used,
    ``app_input_invalid`` when the step's input does not fit it."""
    app_id = view.get("app_id")
    app = apps.get(app_id)
    problem = app_problem(app_id, app)
    if problem is not None:
        return None, {"code": "app_not_allowed", "message": problem}
    problem = app_input_problem(app_id, app, view.get("input"))
    if problem is not None:
        return None, {"code": "app_input_invalid", "message": problem}
    return {key: app.get(key) for key in APP_VIEW_FIELDS}, None


def back(conn: Connection, env: RunEnv, run_id: str, data: Any) -> dict[str, Any]:
    validate(BACK_SCHEMA, data)

    def undo(doc: dict, state: RunState, now: str, _loader: Any) -> RunState:
        expected = data.get("step_id")
        if expected is not None and expected != state.current_step:
            raise AnswerError("not_current_step",
                              f"the run is at step {state.current_step!r}, not {expected!r}; reload it",
                              "step_id")
        return runner.back(doc, state, now=now)

    return _transition(conn, env, run_id, undo)


def abandon(conn: Connection, env: RunEnv, run_id: str) -> dict[str, Any]:
    return _transition(conn, env, run_id, lambda _doc, state, now, _loader: runner.abandon(state, now=now))


def hand_over(conn: Connection, env: RunEnv, run_id: str, data: Any) -> dict[str, Any]:
    """Attach a self-service run to a waiting support session, history kept."""
    validate(HANDOVER_SCHEMA, data)
    row = _load(conn, run_id, lock=True)
    _hand_over(conn, env, row, data.get("session_id"), utcnow())
    return get(conn, run_id)


def _transition(conn: Connection, env: RunEnv, run_id: str,
                change: Callable[[dict, RunState, str, Any], RunState]) -> dict[str, Any]:
    row = _load(conn, run_id, lock=True)
    document = store.version_document(conn, row.path_id, row.version)
    before = RunState.from_dict(row.state)
    now = utcnow()
    try:
        after = change(document, before, iso(now), _loader(conn))
    except RunnerError as exc:
        raise domain_error(exc) from None
    conn.execute(guided_path_runs.update().where(guided_path_runs.c.id == row.id).values(
        state=after.to_dict(), status=after.status, outcome=after.outcome, updated_at=now,
        completed_at=now if after.finished and not before.finished else row.completed_at,
    ))
    _after(conn, env, _load(conn, row.id), document, before, after, now)
    return get(conn, run_id)


def _after(conn: Connection, env: RunEnv, row: Any, document: dict, before: RunState | None,
           after: RunState, now: datetime) -> None:
    """Record the new history, announce it, and hand over an escalated self-service run."""
    new_entries = after.history[len(before.history) if before else 0:]
    documents = _subpath_documents(conn, document, after, before)
    seq = _next_seq(conn, row.id)
    ids = {"run_id": row.id, "path_id": row.path_id, "version": row.version}
    # The session, so that the run's progress lands in the session's timeline.
    session = {"session_id": row.session_id}
    for entry in new_entries:
        conn.execute(guided_path_run_steps.insert().values(
            run_id=row.id, seq=seq, path_key=entry.path_id, step_id=entry.step_id, event=entry.event,
            at=_parse_time(entry.at), value=entry.value,
        ))
        if entry.event in ("answered", "completed"):
            env.emit(conn, "run.step_completed", {
                **ids, **session, "seq": seq, "step_id": entry.step_id, "step_path_key": entry.path_id,
                "event": entry.event,
                "step_type": step_type_of(document, after, entry.path_id, entry.step_id, documents),
            })
        seq += 1
    entered_action = after.status == "waiting_action" and any(
        e.event == "entered" and e.step_id == after.current_step for e in new_entries
    )
    if entered_action:
        step = runner.waiting_step(document, after) or {}
        env.emit(conn, "run.action_requested", {
            **ids, "step_id": after.current_step, "action": step.get("action") or step.get("type"),
            "session_id": row.session_id,
        })
    if after.finished and (before is None or not before.finished):
        env.emit(conn, "run.completed", {
            **ids, **session, "status": after.status, "outcome": after.outcome,
            "steps": sum(1 for e in after.history if e.event in ("answered", "completed")),
            "duration_ms": max(0, int((now - _aware(row.created_at)).total_seconds() * 1000)),
        })
        if (after.outcome == "escalate" and row.mode == SELF_SERVICE and env.handover_on_escalate
                and row.handed_over_at is None):
            _hand_over(conn, env, row, None, now)


def _hand_over(conn: Connection, env: RunEnv, row: Any, session_id: str | None, now: datetime) -> None:
    if row.handed_over_at is not None:
        raise Conflict(f"run {row.id!r} was already handed over (session {row.session_id!r})",
                       code="already_handed_over")
    if row.status == "abandoned":
        raise Conflict("the run was abandoned; start a new run", code="run_finished")
    if row.mode == AGENT:
        raise Conflict("this run is already run by an agent; only self-service runs are handed over",
                       field="mode", code="not_self_service")
    if session_id is not None and row.session_id not in (None, session_id):
        raise Conflict(f"the run belongs to session {row.session_id!r}", field="session_id",
                       code="session_mismatch")
    target = session_id or row.session_id
    if target is None:
        session = support_sessions.create(conn, {"customer_id": row.customer_id}, env.emit)
    else:
        session = _session(conn, target)
        if session["customer_id"] not in (None, row.customer_id) and row.customer_id is not None:
            raise Invalid("the session belongs to another customer", field="session_id")
    if session["state"] == session_states.ENDED:
        raise Conflict(f"session {session['id']!r} has ended; hand over to a new session", field="session_id",
                       code="session_ended")
    if session["state"] == session_states.CREATED:
        support_sessions.change_state(conn, session["id"], {"state": session_states.WAITING}, env.emit)
    conn.execute(guided_path_runs.update().where(guided_path_runs.c.id == row.id).values(
        session_id=session["id"], handed_over_at=now, updated_at=now,
    ))
    conn.execute(guided_path_run_steps.insert().values(
        run_id=row.id, seq=_next_seq(conn, row.id), path_key=None, step_id=None, event="handed_over",
        at=now, value={"session_id": session["id"]},
    ))
    env.emit(conn, "run.handed_over", {"run_id": row.id, "path_id": row.path_id, "version": row.version,
                                       "session_id": session["id"]})


# -- helpers --------------------------------------------------------------------------


def _session(conn: Connection, session_id: str) -> dict[str, Any]:
    try:
        return support_sessions.get(conn, session_id)
    except NotFound:
        raise Invalid(f"session {session_id!r} does not exist", field="session_id") from None


def _loader(conn: Connection) -> Callable[[str], tuple[dict, int]]:
    """Subpaths run the latest published version of their path, pinned into the
    run's state when entered."""

    def load(key: str) -> tuple[dict, int]:
        found = store.latest_published(conn, key)
        if found is None:
            raise LookupError(f"there is no published path {key!r}")
        _path_id, version, document = found
        return document, version

    return load


def _subpath_documents(conn: Connection, document: dict, state: RunState,
                       before: RunState | None = None) -> dict[str, dict]:
    """``{"key@version": document}`` of every subpath the run entered.

    The state holds them only while they may still be needed (a finished run drops
    them), so the rest come from the versions the history says were entered — a
    subpath step's ``entered`` entry records ``{"path_id", "version"}``."""
    found: dict[str, dict] = {**(before.documents if before else {}), **state.documents}
    for entry in state.history:
        value = entry.value
        if (entry.event != "entered" or not isinstance(value, dict) or set(value) != {"path_id", "version"}
                or step_type_of(document, state, entry.path_id, entry.step_id, found) != "subpath"):
            continue
        key = f"{value['path_id']}@{value['version']}"
        if key in found:
            continue
        row = conn.execute(
            select(guided_path_versions.c.document)
            .join(guided_paths, guided_paths.c.id == guided_path_versions.c.path_id)
            .where(guided_paths.c.key == value["path_id"], guided_path_versions.c.version == value["version"])
        ).first()
        if row is not None:
            found[key] = row.document
    return found


def _next_seq(conn: Connection, run_id: str) -> int:
    t = guided_path_run_steps
    last = conn.execute(select(func.max(t.c.seq)).where(t.c.run_id == run_id)).scalar()
    return 0 if last is None else last + 1


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
