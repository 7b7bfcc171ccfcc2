"""Fixtures for the relay tests: a real relay on loopback ports, tickets for it,
and a helper that runs a coroutine with a hard time limit."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from guidepath.core.crypto import MasterKey
from guidepath.core.files import FileStore
from guidepath.relay.reports import InProcessReports
from guidepath.relay.server import RelayServer, RelaySettings, RunningRelay
from guidepath.relay.tickets import Ticket, issue_ticket

from relay_helpers import RELAY_ID, TENANT_A


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def secret() -> bytes:
    return os.urandom(32)


@pytest.fixture
def reports() -> InProcessReports:
    return InProcessReports()


@pytest.fixture
def file_store(tmp_path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
def relay_factory(secret, master_key, file_store, reports) -> Iterator[Callable[..., RunningRelay]]:
    started: list[RunningRelay] = []

    def start(**overrides: Any) -> RunningRelay:
        settings = RelaySettings(
            relay_id=RELAY_ID,
            ticket_secret=secret,
            tcp_port=0,
            ws_port=0,
            heartbeat_seconds=0.5,
            idle_timeout_seconds=5.0,
            grace_seconds=2.0,
            hello_timeout_seconds=2.0,
            master_key=master_key,
            file_store=file_store,
            reports=reports,
        )
        for name, value in overrides.items():
            setattr(settings, name, value)
        running = RelayServer(settings).start_in_thread()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def relay(relay_factory) -> RunningRelay:
    return relay_factory()


@pytest.fixture
def tickets(secret) -> Callable[..., tuple[Ticket, str]]:
    def make(role: str = "device", *, session_id: str = "ses_1", tenant_id: str = TENANT_A,
             kind: str = "remote_control", **kwargs: Any) -> tuple[Ticket, str]:
        kwargs.setdefault("relay_id", RELAY_ID)
        return issue_ticket(secret, tenant_id=tenant_id, session_id=session_id, kind=kind, role=role, **kwargs)

    return make
