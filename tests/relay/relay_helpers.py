"""Constants and helpers shared by the relay tests (imported by name: a test module
importing ``conftest`` would get whichever conftest was imported first)."""

from __future__ import annotations

import asyncio
from typing import Any

RELAY_ID = "relay-test"
TENANT_A = "t00000000000000aa"
TENANT_B = "t00000000000000bb"


def run(coro: Any, timeout: float = 20.0) -> Any:
    """Run *coro* on a fresh loop; fail instead of hanging."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())
