"""Support sessions: create, list live or historical, change state, capabilities; and
the agent console's take, transfer, queue position and timeline."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import session_assignment, session_expansions, support_sessions, timeline
from ...domain import session_queue as queueing  # the view below is session_queue
from ...domain.errors import Forbidden
from ...domain.session_states import STATES
from ..auth import current_principal, customer_session_guard, is_customer, require
from ..body import json_body
from ..contract import PAGING, Param, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("sessions", __name__, url_prefix="/api/v1/sessions")

SESSION = support_sessions.SESSION_OUTPUT_SCHEMA
EXPANDED = support_sessions.SESSION_EXPANDED_SCHEMA
WITH_CAPABILITIES = support_sessions.SESSION_WITH_CAPABILITIES_SCHEMA
_TIMESTAMP = {"type": "string", "format": "date-time"}
_EXPANSION = "(" + "|".join(support_sessions.EXPANSIONS) + ")"

EXPAND = Param("expand", {"type": "string", "maxLength": 100, "pattern": f"^{_EXPANSION}(,{_EXPANSION})*$"},
               "Comma-separated parts to add to each session: `customer` ({id, name, email} or null), `device` "
               "({id, summary} or null, summary like `Acme Test Phone 7 · Android 15`), `agent` ({id, name, "
               "email} or null), `queue` (as GET …/queue). An unknown part is a 422.")

LIST_QUERY = (
    *PAGING,
    Param("state", {"type": "string", "enum": ["live", *STATES]},
          "`live`: every session not ended (created, waiting, active); or exactly one state."),
    Param("since", _TIMESTAMP, "Sessions created at or after this time (ISO-8601; UTC if no zone)."),
    Param("until", _TIMESTAMP, "Sessions created before this time (ISO-8601; UTC if no zone)."),
    Param("agent", {"type": "string", "maxLength": 40}, "Sessions of this agent (a user id)."),
    Param("q", {"type": "string", "maxLength": 200},
          "History search: sessions whose customer's first or last name (or both, `Ada Lovelace`), email or "
          "phone contains this text, case-insensitive (phone digits match whatever the spacing)."),
    Param("outcome", {"type": "string", "enum": list(support_sessions.OUTCOMES)}, "Ended sessions with this outcome."),
    Param("order", {"type": "string", "enum": ["oldest", "newest"], "default": "oldest"},
          "`oldest` first (the default) or `newest` first; the cursor follows the order."),
    EXPAND,
)

QUEUE_METHOD = (
    "`position` is 1-based among waiting sessions ordered by `waiting_since` (then id); `waiting_ahead` the "
    "sessions before it. The estimate is computed on the server: 0 while an online agent has a free slot for it "
    "(position ≤ free slots, a slot being capacity minus active sessions); otherwise the median handle time "
    f"(`started_at` → `ended_at`) of the last {support_sessions.HANDLE_TIME_SAMPLE} ended sessions × "
    "ceil((position − free slots) / total capacity of online agents). null when nobody is online, when there is "
    "no handle time to measure yet, or when the session is not waiting; `method` says which, in words. "
    "Only agents whose availability is `online` count (`busy` ones do not take new customers).")


def _with_capabilities(session: dict) -> dict:
    ctx = tenant_ctx()
    return {**session, "capabilities": ctx.hooks.session_capabilities(ctx.tenant, session)}


@bp.get("")
@require("agent")
@documented("List sessions: live (?state=live) or historical (since, until, state, agent, q, outcome); "
            "paginated, oldest first unless ?order=newest",
            description="`?expand=customer,device,agent,queue` adds those parts to every item, read in one query "
                        "per part for the page.", query=LIST_QUERY, returns=page_of(EXPANDED))
def list_sessions():
    args = dict(query_args())
    parts = session_expansions.parse_expand(args.pop("expand"))
    with tenant_ctx().engine.connect() as conn:
        page = support_sessions.list_sessions(conn, **args)
        page.items = session_expansions.expand(conn, page.items, parts)
    return jsonify(page.as_dict())


@bp.post("")
@require("agent")
@documented("Open a support session (state `created`)",
            description="The body is optional: no body is the same as `{}`. Ids given must exist (422 otherwise).",
            query=[], body=support_sessions.SESSION_CREATE_SCHEMA, body_required=False,
            returns=WITH_CAPABILITIES, status=201)
def create_session():
    data = json_body(allow_empty=True)
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = support_sessions.create(conn, data, ctx.emit)
    return jsonify(_with_capabilities(session)), 201


@bp.get("/<session_id>")
@require("customer_or_agent")
@documented("Get a session with its capabilities",
            description="Agents get the whole session with its capabilities, and the parts `?expand=` asks for. "
                        "A customer token (of this session only; 403 for another) gets a reduced view: id, "
                        "state, created_at, ended_at and agent_name, and may not expand (403).",
            query=[EXPAND], returns=support_sessions.SESSION_GET_SCHEMA)
def get_session(session_id: str):
    principal = customer_session_guard(session_id)
    raw_expand = query_args()["expand"]
    with tenant_ctx().engine.connect() as conn:
        if is_customer(principal):
            if raw_expand:
                raise Forbidden("a customer token cannot expand a session")
            return jsonify(support_sessions.customer_view(conn, session_id))
        parts = session_expansions.parse_expand(raw_expand)
        session = session_expansions.expand(conn, [support_sessions.get(conn, session_id)], parts)[0]
    return jsonify(_with_capabilities(session))


@bp.patch("/<session_id>")
@require("agent")
@documented("Assign agent, customer or device", description="Ids given must exist (422 otherwise); null "
            "clears one.", query=[], body=support_sessions.SESSION_PATCH_SCHEMA, returns=SESSION)
def patch_session(session_id: str):
    data = json_body()
    with tenant_ctx().begin() as conn:
        session = support_sessions.patch(conn, session_id, data)
    return jsonify(session)


@bp.post("/<session_id>/state")
@require("agent")
@documented("Move the session through its state machine",
            description="created → waiting | ended; waiting → active | ended; active → waiting | ended. Any "
                        "other move (an ended session never moves) is a 409 `illegal_transition` naming the "
                        "moves allowed. `resolution` and `outcome` are recorded when it ends, and only then; "
                        "without an outcome it is `abandoned` if the session was never active, else `resolved` "
                        "with a resolution and `unresolved` without. Entering `waiting` sets `waiting_since` "
                        "(cleared when it leaves); the first `active` sets `started_at`.",
            query=[], body=support_sessions.STATE_CHANGE_SCHEMA, returns=SESSION, errors=[409])
def change_state(session_id: str):
    data = json_body()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = support_sessions.change_state(conn, session_id, data, ctx.emit)
    return jsonify(session)


def _signed_in_user() -> dict:
    principal = current_principal()
    if principal["kind"] != "user":
        raise Forbidden("this needs a signed-in agent (an API key is not one)")
    return principal


@bp.post("/<session_id>/take")
@require("agent")
@documented("Take a session: it becomes yours and active",
            description="From `created` or `waiting`, in one transaction (the session's and the agent's rows "
                        "locked on PostgreSQL): the calling agent is assigned and the session is `active` "
                        "(`session.state_changed`). Taking a session you already hold is a 200 that changes "
                        "nothing. 409 `already_taken` (naming who) when another agent has it active, "
                        "`illegal_transition` when it has ended, `at_capacity` when you already hold `capacity` "
                        "active sessions. Signed-in agents only: an API key is a 403.",
            query=[], returns=SESSION, errors=[409])
def take_session(session_id: str):
    user = _signed_in_user()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = session_assignment.take(conn, session_id, user["id"], ctx.emit)
    return jsonify(session)


@bp.post("/<session_id>/transfer")
@require("agent")
@documented("Transfer an active session to another agent",
            description="The session stays `active`; its agent changes (`session.transferred`, with the note). "
                        "The agent holding it or an admin may transfer (403 otherwise). The target must exist "
                        "(422), be enabled and not `offline` (409 `agent_unavailable`), have a free slot (409 "
                        "`at_capacity`) and not already hold it (409 `already_assigned`); a session that is not "
                        "active is a 409 `illegal_transition`.",
            query=[], body=support_sessions.TRANSFER_SCHEMA, returns=SESSION, errors=[409])
def transfer_session(session_id: str):
    data = json_body()
    principal = current_principal()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = session_assignment.transfer(
            conn, session_id, data, ctx.emit,
            by_user_id=principal["id"] if principal["kind"] == "user" else None,
            by_admin=principal["role"] == "admin")
    return jsonify(session)


@bp.get("/<session_id>/queue")
@require("customer_or_agent")
@documented("Where the session stands in the queue, with a wait estimate",
            description=QUEUE_METHOD + " A customer token may read its own session's queue.",
            query=[], returns=support_sessions.QUEUE_OUTPUT_SCHEMA)
def session_queue(session_id: str):
    customer_session_guard(session_id)
    with tenant_ctx().engine.connect() as conn:
        return jsonify(queueing.queue(conn, session_id))


@bp.get("/<session_id>/timeline")
@require("agent")
@documented("The session's timeline: every event about it, oldest first (paginated)",
            description="Written from the events (any event whose data names the session: state changes, "
                        "transfers, messages and notes, customers joining, relay connections, Guided Path runs…) "
                        "by the event dispatcher, once per event id; it follows the events by the time the "
                        "dispatcher takes (milliseconds embedded, about a second with Kafka).",
            query=PAGING, returns=page_of(timeline.TIMELINE_ENTRY_SCHEMA))
def session_timeline(session_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(timeline.list_timeline(conn, session_id, **query_args()).as_dict())
