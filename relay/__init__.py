"""The relay: its wire protocol, tickets, the WebSocket bridge, recording and the
reference device client (issue 4).

Devices connect over TCP and viewers over WebSocket; both speak the sealed frame
protocol of :mod:`guidepath.relay.protocol` (spec: ``docs/relay-protocol.md``).
The app hands out tickets (:func:`issue_ticket`), picks a relay from the
registry and consumes the relay's reports.

This package imports ``guidepath.core`` only for config, crypto, the file store
and logging. It must never import Flask, the web layer, ``guided_paths`` or any
plugin: it runs as its own process and many relays run at once.
"""

from __future__ import annotations

from .registry import InProcessRegistry, RedisRegistry, RelayInfo, RelayRegistry
from .reports import InProcessReports, RedisReports, Report, ReportSink
from .tickets import (
    RecordingGrant,
    Ticket,
    TicketLimits,
    TicketRefused,
    UsedTickets,
    issue_ticket,
    open_ticket,
    ticket_secret,
)

__all__ = [
    "InProcessRegistry",
    "InProcessReports",
    "RecordingGrant",
    "RedisRegistry",
    "RedisReports",
    "RelayInfo",
    "RelayRegistry",
    "Report",
    "ReportSink",
    "Ticket",
    "TicketLimits",
    "TicketRefused",
    "UsedTickets",
    "issue_ticket",
    "open_ticket",
    "ticket_secret",
]
