"""A relay the app's tickets point at, for tests that need one (plugins, contract).

Embedded: the relay the remote_control/camera_share workers start inside the app
(the app fixture starts the workers). Server: relays are processes of their own in
production; here one runs in a thread, registered in Redis and reporting to the
Redis stream, with the app's master key — what ``guidepath relay`` does.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any, Iterator


@contextlib.contextmanager
def running_relay(kernel: Any, name: str = "test-relay") -> Iterator[Any]:
    from guidepath.relay.hosting import hosting_for
    from guidepath.relay.registry import RedisRegistry
    from guidepath.relay.reports import RedisReports
    from guidepath.relay.server import RelayServer, RelaySettings

    hosting = hosting_for(kernel)
    if hosting.embedded:
        local = hosting.acquire_local_relay()
        try:
            yield local
        finally:
            hosting.release_local_relay()
        return
    url = kernel.config.redis_url
    relay = RelayServer(RelaySettings(
        relay_id=f"{name}-{secrets.token_hex(4)}", ticket_secret=hosting.secret, tcp_port=0, ws_port=0,
        master_key=kernel.master_key, file_store=kernel.files,
        reports=RedisReports.from_url(url, stream=f"{hosting.namespace}:reports"),
        registry=RedisRegistry.from_url(url, prefix=hosting.namespace),
        registry_interval_seconds=1.0,
    )).start_in_thread()
    try:
        yield relay
    finally:
        relay.stop()
