"""Tickets: sealed, bound to a relay, expiring, single-use."""

from __future__ import annotations

import base64
import os
import time
from dataclasses import replace

import pytest

from guidepath.core.crypto import MasterKey
from guidepath.relay.protocol import CloseCode
from guidepath.relay.tickets import (
    RecordingGrant,
    TicketLimits,
    TicketRefused,
    UsedTickets,
    issue_ticket,
    open_ticket,
    seal_ticket,
    ticket_secret,
)

SECRET = os.urandom(32)


def issue(**kw):
    args = dict(relay_id="r1", tenant_id="t1", session_id="s1", kind="remote_control", role="device")
    args.update(kw)
    return issue_ticket(SECRET, **args)


def refused(token, **kw) -> CloseCode:
    kw.setdefault("relay_id", "r1")
    with pytest.raises(TicketRefused) as exc:
        open_ticket(kw.pop("secret", SECRET), token, **kw)
    return exc.value.code


def test_round_trip_with_limits_and_recording():
    grant = RecordingGrant(wrapped_data_key=os.urandom(60), file_name="session.gprec")
    ticket, token = issue(limits=TicketLimits(max_fps=10, max_frame_bytes=4096), recording=grant, ttl_seconds=30,
                          tenant_id="t0123456789abcdef")
    assert open_ticket(SECRET, token, relay_id="r1") == ticket
    assert len(ticket.key) == 32 and ticket.expires_at - time.time() <= 30
    # Sealed, not just signed: neither the key nor the tenant is readable in the token.
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret_part in (ticket.key, base64.urlsafe_b64encode(ticket.key).rstrip(b"="), b"t0123456789abcdef",
                        b'"tenant"'):
        assert secret_part not in raw


def test_fresh_key_and_id_each_time():
    (a, _), (b, _) = issue(), issue()
    assert a.key != b.key and a.ticket_id != b.ticket_id and a.connection_id != b.connection_id


def test_tampered_token_is_refused():
    _, token = issue()
    for i in (0, len(token) // 2, len(token) - 1):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        assert refused(changed) is CloseCode.TICKET_INVALID
    assert refused(token + "==") is CloseCode.TICKET_INVALID
    assert refused("not a ticket!") is CloseCode.TICKET_INVALID
    assert refused("") is CloseCode.TICKET_INVALID
    assert refused(token, secret=os.urandom(32)) is CloseCode.TICKET_INVALID


def test_expired_and_wrong_relay():
    _, token = issue(ttl_seconds=5)
    assert refused(token, now=time.time() + 6) is CloseCode.TICKET_EXPIRED
    assert refused(token, relay_id="r2") is CloseCode.TICKET_WRONG_RELAY


def test_single_use_and_purge():
    ticket, _ = issue(ttl_seconds=5)
    used = UsedTickets()
    used.claim(ticket)
    with pytest.raises(TicketRefused) as exc:
        used.claim(ticket)
    assert exc.value.code is CloseCode.TICKET_USED
    used.purge(time.time() + 10)
    assert len(used) == 0


def test_secret_is_derived_from_the_master_key():
    key = MasterKey.generate()
    assert ticket_secret(key) == ticket_secret(MasterKey.from_base64(key.to_base64()))
    assert ticket_secret(key) != ticket_secret(MasterKey.generate())


def test_bad_arguments():
    with pytest.raises(ValueError):
        issue(kind="cobrowse")
    with pytest.raises(ValueError):
        issue(role="agent")
    with pytest.raises(ValueError):
        issue(role="viewer", recording=RecordingGrant(b"x"))
    with pytest.raises(ValueError):
        issue(ttl_seconds=0)
    with pytest.raises(ValueError):
        TicketLimits(max_frame_bytes=64 * 1024 * 1024)


def test_authentic_but_inconsistent_contents_are_refused():
    ticket, _ = issue()
    token = seal_ticket(SECRET, replace(ticket, expires_at=int(time.time()) + 60))
    assert open_ticket(SECRET, token, relay_id="r1").expires_at > time.time()
