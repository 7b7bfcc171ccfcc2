"""The click commands: embedded-mode explanation, the device command against a live relay,
and a relay that registers itself in Redis."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import pytest
import redis
from click.testing import CliRunner

from guidepath.relay.cli import device_command, parse_ticket, relay_command
from guidepath.core.crypto import MasterKey
from guidepath.relay.registry import RedisRegistry, namespace_for


def test_relay_command_explains_embedded_mode(tmp_path):
    result = CliRunner().invoke(relay_command, [], env={"GUIDEPATH_REDIS_URL": "", "GUIDEPATH_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "guidepath run" in result.output


def test_device_command_joins_and_reports_refusals(relay, tickets):
    ticket, token = tickets("device")
    key = base64.urlsafe_b64encode(ticket.key).rstrip(b"=").decode()
    address = relay.tcp_address
    result = CliRunner().invoke(device_command, ["--ticket", f"{token}.{key}", "--relay", address,
                                                 "--fps", "20", "--duration", "1"])
    assert result.exit_code == 0, result.output
    assert "sent" in result.output
    again = CliRunner().invoke(device_command, ["--ticket", token, "--key", key, "--relay", address, "--duration", "1"])
    assert again.exit_code == 1 and "4013" in again.output and "single-use" in again.output
    assert parse_ticket(f"{token}.{key}", None) == (token, ticket.key)


@pytest.mark.redis
def test_relay_process_registers_in_redis(tmp_path):
    prefix_probe = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    relay_id = f"cli-test-{os.urandom(3).hex()}"
    master_key = MasterKey.generate()
    namespace = namespace_for(master_key)  # what an app with the same master key looks in
    env = {**os.environ, "GUIDEPATH_REDIS_URL": "redis://127.0.0.1:6379/0", "GUIDEPATH_DATA_DIR": str(tmp_path),
           "GUIDEPATH_MASTER_KEY": master_key.to_base64()}
    code = "from guidepath.relay.cli import relay_command; relay_command()"
    proc = subprocess.Popen([sys.executable, "-c", code, "--port", "0", "--ws-port", "0", "--relay-id", relay_id],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        registry = RedisRegistry(prefix_probe, prefix=namespace)
        found = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and found is None:
            found = next((r for r in registry.live() if r.relay_id == relay_id), None)
            time.sleep(0.1)
        assert found is not None and found.tcp_address.startswith("127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        prefix_probe.delete(f"{namespace}:relay:{relay_id}")
        prefix_probe.zrem(f"{namespace}:relays", relay_id)
        prefix_probe.close()
    assert all(r.relay_id != relay_id for r in registry.live())  # unregistered on SIGTERM


