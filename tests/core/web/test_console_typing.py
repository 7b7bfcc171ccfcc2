"""Typing indicators over ``WS /ws``: relayed to the account's sockets, never stored."""

from __future__ import annotations

import json

from sqlalchemy import text

from console_support import agent, new_session
from test_ws import agent_socket, close_quietly, receive_json, wait_for, ws_connect


def test_typing_is_fanned_out_to_the_tenants_sockets(tenant):
    grace, user = agent(tenant, "Grace Hopper")
    session = new_session(grace)
    with agent_socket(tenant) as watcher:  # the admin's socket sees Grace typing
        assert receive_json(watcher)["type"] == "hello"
        typist = ws_connect(tenant.server.port, tenant.host, cookie=grace.session.cookies.get("gp_session"))
        try:
            assert receive_json(typist)["type"] == "hello"
            typist.send(json.dumps({"type": "typing", "session_id": session["id"], "typing": True}))
            message, _ = wait_for(watcher, lambda m: m.get("type") == "typing", 10)
        finally:
            close_quietly(typist)
    assert message == {"type": "typing", "session_id": session["id"], "user_id": user["id"],
                       "name": "Grace Hopper", "typing": True}
    with tenant.context().engine.connect() as conn:  # not an event, not stored
        assert conn.execute(text("SELECT count(*) FROM event_outbox WHERE type LIKE '%typing%'")).scalar() == 0


def test_a_typing_message_of_the_wrong_shape_gets_the_error_reply(tenant):
    session = new_session(tenant.admin)
    with agent_socket(tenant) as ws:
        assert receive_json(ws)["type"] == "hello"
        for bad, field in (
            ({"type": "typing", "typing": True}, "session_id"),
            ({"type": "typing", "session_id": "nope", "typing": True}, "session_id"),
            ({"type": "typing", "session_id": session["id"], "typing": "yes"}, "typing"),
            ({"type": "typing", "session_id": session["id"], "typing": True, "mood": "x"}, "mood"),
        ):
            ws.send(json.dumps(bad))
            reply, _ = wait_for(ws, lambda m: m.get("type") == "error", 10)
            assert reply["error"]["field"] == field, (bad, reply)
        ws.send(json.dumps({"type": "ping", "id": 1}))  # the socket stays usable
        assert wait_for(ws, lambda m: m.get("type") == "pong", 10)[0]["id"] == 1
