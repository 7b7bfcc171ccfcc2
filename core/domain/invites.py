"""Invite codes and customer tokens: how a customer without an account joins a session.

An agent creates an invite for a session and reads its code to the customer (or
sends the link). The code is 8 characters of Crockford base32 (no I, L, O, U: nothing
to misread aloud), shown as ``K7QF-3MZD``; it is accepted with or without the dash,
in any case, with ``O``→``0`` and ``I``/``L``→``1`` as Crockford decoding says. Only
the SHA-256 of the normalised code is stored: the creating response is the only time
it is shown. 40 random bits are plenty for a code that lives 15 minutes, is single
use and whose guessing is rate-limited (the web layer counts failures per client
address and per tenant).

Redeeming is atomic: one ``UPDATE … WHERE used_at IS NULL AND expires_at > now``
decides who wins, so a second redeem is a 409 ``invite_used`` however close. The
customer gets a **customer token** (``gpc_…``, 256 bits, hashed at rest, 24 h) that
opens only its own session's reduced view, chat and queue position.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Connection, select

from ..crypto.tokens import hash_token, new_token
from .customers import CUSTOMER_SCHEMA, CUSTOMERS
from .errors import Conflict, DomainError, NotFound
from .ids import new_id
from .records import DEFAULT_PAGE, Page, iso, keyset_page, row_dict, utcnow
from .schemas import NULLABLE_TIMESTAMP, TIMESTAMP, object_id, response_object
from .session_states import CREATED, ENDED, WAITING
from .support_sessions import change_state
from .support_sessions import get as get_session
from .tables import customer_tokens, invite_codes, support_sessions
from .validation import validate

Emit = Callable[[Connection, str, dict[str, Any]], None]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
CODE_LENGTH = 8
DEFAULT_TTL = timedelta(minutes=15)
TOKEN_TTL = timedelta(hours=24)
TOKEN_PREFIX = "gpc"
_DECODE = str.maketrans({"O": "0", "I": "1", "L": "1"})

FIELDS = ["id", "session_id", "created_by", "created_at", "expires_at", "used_at"]


class Gone(DomainError):
    """The thing existed but is no longer usable (an expired invite)."""

    status = 410
    code = "gone"


INVITE_CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "expires_in_seconds": {"type": "integer", "minimum": 60, "maximum": 86400,
                               "description": "How long the code works (default 900: 15 minutes)"},
    },
    "additionalProperties": False,
    "description": "Optional: no body is `{}`.",
    "examples": [{}, {"expires_in_seconds": 600}],
}

INVITE_OUTPUT_SCHEMA = response_object({
    "id": object_id("inv", "inv_01m94ky3ytfkngga0hmqg1zgm5"),
    "session_id": object_id("ses", "ses_01m94ky3ytfkngga0hmqg1zgm5"),
    "created_by": {"type": ["string", "null"], "description": "`user:usr_…` or `api_key:key_…`"},
    "created_at": TIMESTAMP,
    "expires_at": TIMESTAMP,
    "used_at": {**NULLABLE_TIMESTAMP, "description": "When it was redeemed (single use)"},
}, description="An invite code (without the code: it is shown only when created)", examples=[{
    "id": "inv_01m94ky3ytfkngga0hmqg1zgm5", "session_id": "ses_01m94ky3ytfkngga0hmqg1zgm5",
    "created_by": "user:usr_01m94ky3z46vzem4zrnwha42xg", "created_at": "2026-01-31T12:00:00.000000Z",
    "expires_at": "2026-01-31T12:15:00.000000Z", "used_at": None,
}])

INVITE_CREATED_SCHEMA = response_object({
    **INVITE_OUTPUT_SCHEMA["properties"],
    "code": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$",
             "description": "Shown only in this response; stored as a hash. Accepted with or without the dash, "
                            "in any case"},
    "url": {"type": "string", "format": "uri", "description": "`{scheme}://{tenant host}/join/{code}`"},
}, description="A new invite code (the code is shown only here)", examples=[{
    **INVITE_OUTPUT_SCHEMA["examples"][0], "code": "K7QF-3MZD", "url": "https://acme.example.com/join/K7QF-3MZD",
}])

REDEEM_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 20,
                 "description": "The 8-character code, with or without its dash, any case"},
        "customer": {**CUSTOMER_SCHEMA, "additionalProperties": False,
                     "description": "Who is joining; attached (created) only if the session has no customer yet"},
    },
    "required": ["code"],
    "additionalProperties": False,
    "examples": [{"code": "K7QF-3MZD", "customer": {"first_name": "Ada", "email": "ada@example.com"}}],
}
REDEEM_SCHEMA["properties"]["customer"].pop("examples", None)

REDEEMED_SCHEMA = response_object({
    "session_id": object_id("ses", "ses_01m94ky3ytfkngga0hmqg1zgm5"),
    "token": {"type": "string", "description": "The customer token: send as `Authorization: Bearer …`. It opens "
                                               "only this session's reduced view, its chat and its queue position"},
    "expires_at": TIMESTAMP,
}, description="A customer token for the session", examples=[{
    "session_id": "ses_01m94ky3ytfkngga0hmqg1zgm5", "token": "gpc_Xk3v9QdmNjPekQCWDyh73vEILCuwnA0JuOmn_JCowLu",
    "expires_at": "2026-02-01T12:00:00.000000Z",
}])


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise(raw: str) -> str | None:
    """The code in canonical form, or None if it cannot be one."""
    code = raw.strip().upper().replace("-", "").replace(" ", "").translate(_DECODE)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def create(conn: Connection, session_id: str, data: Any, *, created_by: str | None) -> dict[str, Any]:
    """A new invite; the plaintext ``code`` is in the result and nowhere else."""
    validate(INVITE_CREATE_SCHEMA, data)
    session = get_session(conn, session_id)
    if session["state"] == ENDED:
        raise Conflict("the session has ended; nobody can join it", field="session_id", code="session_ended")
    now = utcnow()
    ttl = timedelta(seconds=data["expires_in_seconds"]) if "expires_in_seconds" in data else DEFAULT_TTL
    code = new_code()
    invite_id = new_id("inv")
    conn.execute(invite_codes.insert().values(
        id=invite_id, session_id=session_id, code_hash=code_hash(code), created_by=created_by,
        created_at=now, expires_at=now + ttl, used_at=None,
    ))
    return {**get(conn, invite_id), "code": display(code)}


def get(conn: Connection, invite_id: str) -> dict[str, Any]:
    row = conn.execute(select(invite_codes).where(invite_codes.c.id == invite_id)).first()
    if row is None:
        raise NotFound(f"invite {invite_id!r} not found", field="id")
    return row_dict(row, FIELDS)


def list_invites(conn: Connection, session_id: str, *, limit: int = DEFAULT_PAGE,
                 cursor: str | None = None) -> Page:
    get_session(conn, session_id)
    query = select(invite_codes).where(invite_codes.c.session_id == session_id)
    return keyset_page(conn, query, invite_codes.c.id, limit=limit, cursor=cursor,
                       render=lambda r: row_dict(r, FIELDS))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def redeem(conn: Connection, data: Any, emit: Emit) -> dict[str, Any]:
    """Use an invite once: the session moves from ``created`` to ``waiting``, the
    customer is attached (created) if given and the session has none, and a customer
    token is issued. Unknown 404, used 409, expired 410: each found by the same one
    indexed lookup."""
    validate(REDEEM_SCHEMA, data)
    code = normalise(data["code"])
    if code is None:
        raise NotFound("no such invite code", field="code", code="invite_not_found")
    digest = code_hash(code)
    now = utcnow()
    claimed = conn.execute(
        invite_codes.update()
        .where(invite_codes.c.code_hash == digest, invite_codes.c.used_at.is_(None),
               invite_codes.c.expires_at > now)
        .values(used_at=now)
    ).rowcount
    row = conn.execute(select(invite_codes).where(invite_codes.c.code_hash == digest)).first()
    if not claimed:
        if row is None:
            raise NotFound("no such invite code", field="code", code="invite_not_found")
        if row.used_at is not None:
            raise Conflict("this invite code was already used; ask the agent for a new one", field="code",
                           code="invite_used")
        raise Gone("this invite code has expired; ask the agent for a new one", field="code",
                   code="invite_expired")
    session = get_session(conn, row.session_id)
    if session["state"] == ENDED:
        raise Conflict("the session has ended", field="code", code="session_ended")
    customer_id = session["customer_id"]
    if customer_id is None and data.get("customer"):
        customer = CUSTOMERS.create(conn, data["customer"])
        customer_id = customer["id"]
        emit(conn, "customer.created", {"customer_id": customer_id})
        conn.execute(support_sessions.update().where(support_sessions.c.id == session["id"])
                     .values(customer_id=customer_id, updated_at=now))
    if session["state"] == CREATED:
        change_state(conn, session["id"], {"state": WAITING}, emit)
    token = new_token(TOKEN_PREFIX)
    expires = now + TOKEN_TTL
    conn.execute(customer_tokens.insert().values(
        token_hash=hash_token(token), session_id=session["id"], customer_id=customer_id, invite_id=row.id,
        created_at=now, expires_at=expires,
    ))
    emit(conn, "session.customer_joined", {"session_id": session["id"], "customer_id": customer_id})
    return {"session_id": session["id"], "token": token, "expires_at": iso(expires)}


def lookup_token(conn: Connection, token: str) -> dict[str, Any] | None:
    """The customer principal behind a token, or None (unknown or expired)."""
    row = conn.execute(select(customer_tokens).where(customer_tokens.c.token_hash == hash_token(token))).first()
    if row is None or _aware(row.expires_at) <= utcnow():
        return None
    return {"kind": "customer", "id": row.customer_id or f"anonymous:{row.session_id}", "role": "customer",
            "session_id": row.session_id, "customer_id": row.customer_id}
