"""A relay in its own process, for tests that measure the relay's memory.

A relay started in a thread of the test process (``relay_factory``) shares its
memory with the test's clients and attackers, so "the relay's memory" can only be
measured on a relay of its own: :class:`RelayProcess` runs this file as a script
(``RelayServer`` with the settings given as JSON), reads its ports from the first
line of its output, and reads its resident and peak memory from ``/proc``. Its log
(stderr) goes to a file the test can read.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

RELAY_ID = "relay-test"  # the same as relay_helpers.RELAY_ID (tickets name it)


class RelayProcess:
    def __init__(self, secret: bytes, log_path: Path, **settings: object) -> None:
        env = {**os.environ, "RELAY_SETTINGS": json.dumps({"secret": secret.hex(), **settings})}
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, __file__], stdout=subprocess.PIPE, stderr=self._log, env=env
        )
        deadline = time.monotonic() + 30
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the relay process did not start: {log_path.read_text()[-2000:]}")
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                line += os.read(self.proc.stdout.fileno(), 4096)
        ports = json.loads(line)
        self.tcp = ("127.0.0.1", ports["tcp_port"])
        self.tcp_address = f"127.0.0.1:{ports['tcp_port']}"
        self.ws_url = f"ws://127.0.0.1:{ports['ws_port']}/"
        self.ws = ("127.0.0.1", ports["ws_port"])

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def rss(self) -> int:
        """Resident memory now, bytes."""
        return self._status("VmRSS")

    def peak(self) -> int:
        """Peak resident memory since start or :meth:`reset_peak`, bytes."""
        return self._status("VmHWM")

    def sockets(self) -> int:
        """Sockets the relay process holds open (listeners and connections)."""
        fds = Path(f"/proc/{self.pid}/fd")
        count = 0
        for fd in fds.iterdir():
            try:
                count += os.readlink(fd).startswith("socket:")
            except OSError:  # closed meanwhile
                pass
        return count

    def reset_peak(self) -> None:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


def _main() -> None:
    import asyncio
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    settings = json.loads(os.environ["RELAY_SETTINGS"])
    secret = bytes.fromhex(settings.pop("secret"))
    if os.environ.get("RELAY_PACKAGE"):
        # Another copy of relay/ (e.g. an older commit's, to see a test fail without
        # a fix): settings it does not know are left out.
        import importlib

        sys.path.insert(0, os.path.dirname(os.environ["RELAY_PACKAGE"]))
        module = importlib.import_module(os.path.basename(os.environ["RELAY_PACKAGE"]) + ".server")
        RelayServer, RelaySettings, run = module.RelayServer, module.RelaySettings, module.run
        known = RelaySettings.__dataclass_fields__
        settings = {k: v for k, v in settings.items() if k in known}
    else:
        from guidepath.relay.server import RelayServer, RelaySettings, run
    server = RelayServer(RelaySettings(relay_id=RELAY_ID, ticket_secret=secret, tcp_port=0, ws_port=0, **settings))

    async def main() -> None:
        await server.start()
        print(json.dumps({"tcp_port": server.tcp_port, "ws_port": server.ws_port}), flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await server.stop()

    run(main())


if __name__ == "__main__":
    _main()
