"""The support session state machine (pure).

    created ──▶ waiting ──▶ active ──▶ ended
       │           │  ▲        │
       │           │  └────────┘  (an agent hands the customer back to the queue)
       └───────────┴──────────────▶ ended  (customer left before being served)

Anything else is an illegal transition (HTTP 409).
"""

from __future__ import annotations

CREATED, WAITING, ACTIVE, ENDED = "created", "waiting", "active", "ended"
STATES = (CREATED, WAITING, ACTIVE, ENDED)
LIVE_STATES = (CREATED, WAITING, ACTIVE)

TRANSITIONS: dict[str, frozenset[str]] = {
    CREATED: frozenset({WAITING, ENDED}),
    WAITING: frozenset({ACTIVE, ENDED}),
    ACTIVE: frozenset({WAITING, ENDED}),
    ENDED: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def allowed_from(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, frozenset()))
