"""One HTTP POST to an endpoint, at the address that was checked.

``http.client`` with the connection made by hand: the socket goes to the checked
address (``safety.resolve``) while the ``Host`` header and the TLS server name (SNI
and certificate check) stay the URL's host. Redirects are never followed (a 3xx is
a failed attempt like any other non-2xx: a redirect could point anywhere, private
addresses included). Connect and read timeouts, a total deadline, and a cap on how
much of the response is read.
"""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import timezone

from .safety import Endpoint

USER_AGENT = "guidepath-webhooks/1"


@dataclass
class Outcome:
    status_code: int | None
    latency_ms: int
    body: str
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, address: str, *args, connect_timeout: float, read_timeout: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._address, self._connect_timeout, self._read_timeout = address, connect_timeout, read_timeout

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), timeout=self._connect_timeout)
        sock.settimeout(self._read_timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address: str, *args, connect_timeout: float, read_timeout: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._address, self._connect_timeout, self._read_timeout = address, connect_timeout, read_timeout

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), timeout=self._connect_timeout)
        self.sock.settimeout(self._read_timeout)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value[:9]))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def post(endpoint: Endpoint, address: str, body: bytes, headers: dict[str, str], *, connect_timeout: float,
         read_timeout: float, total_timeout: float, body_cap: int, keep_body: int,
         tls: ssl.SSLContext | None = None) -> Outcome:
    started = time.monotonic()
    kwargs = dict(connect_timeout=connect_timeout, read_timeout=read_timeout)
    if endpoint.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPS(address, endpoint.host, endpoint.port,
                                                        context=tls or ssl.create_default_context(), **kwargs)
    else:
        conn = _PinnedHTTP(address, endpoint.host, endpoint.port, **kwargs)
    try:
        conn.putrequest("POST", endpoint.target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", endpoint.host_header)
        all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                       "Content-Length": str(len(body)), **headers}
        for name, value in all_headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        chunks, size = [], 0
        while size < body_cap:
            if time.monotonic() - started > total_timeout:
                raise TimeoutError(f"the response took longer than {total_timeout:g} s")
            chunk = response.read1(min(8192, body_cap - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        text = b"".join(chunks)[:keep_body].decode("utf-8", "replace")
        retry_after = None
        if response.status in (429, 503):
            retry_after = parse_retry_after(response.getheader("Retry-After"))
        return Outcome(response.status, _ms(started), text, None, retry_after)
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return Outcome(None, _ms(started), "", _describe(exc))
    finally:
        conn.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: BaseException) -> str:
    kind = {socket.timeout: "timed out", TimeoutError: "timed out", ConnectionRefusedError: "connection refused",
            ConnectionResetError: "connection reset"}.get(type(exc))
    text = f"{kind}: {exc}" if kind else f"{type(exc).__name__}: {exc}"
    return text[:300]


__all__ = ["Outcome", "parse_retry_after", "post"]
