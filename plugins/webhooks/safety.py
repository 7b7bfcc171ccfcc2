"""Where a webhook may be sent: HTTPS endpoints on public addresses only.

An endpoint's host is resolved and every address it resolves to must be public
(not private, loopback, link-local — which covers cloud metadata services at
169.254.169.254 —, multicast, reserved, unspecified, shared/CGNAT, or an IPv4
address mapped into IPv6). It is checked when a subscription is saved and again
at every delivery (a name can be re-pointed at an internal address after it was
accepted: DNS rebinding), and the delivery connects to the very address that was
checked, never resolving the name a second time.

``GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE=1`` (development and tests) lifts the address
rule and allows plain ``http://``.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from guidepath.core.plugin_api import Invalid

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT = 3.0

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_resolver_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhooks-dns")


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint URL."""

    scheme: str
    host: str          # as written, without brackets (the Host header and TLS server name)
    port: int
    target: str        # path and query, what goes on the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


class Refused(Exception):
    """The endpoint may not be called (the message says why, for the delivery log)."""


def parse(url: str, *, allow_private: bool, field: str = "url") -> Endpoint:
    """The endpoint of ``url``, or 422 saying what is wrong with it."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise Invalid(f"url must be a URL of at most {MAX_URL_LENGTH} characters", field=field)
    if any(ord(c) <= 32 or ord(c) >= 127 for c in url):
        raise Invalid("url must be printable ASCII without spaces (percent-encode the rest)", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Invalid(f"url is not a valid URL: {exc}", field=field) from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed:
        raise Invalid("url must start with https:// (webhooks are only sent over TLS)", field=field)
    if parts.username is not None or parts.password is not None:
        raise Invalid("url must not contain a user name or password", field=field)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Invalid("url must name a host", field=field)
    if parts.fragment:
        raise Invalid("url must not have a #fragment", field=field)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Endpoint(scheme, host, port or (443 if scheme == "https" else 80), target)


def forbidden_reason(address: Address) -> str | None:
    """Why a webhook may not be sent to ``address`` (None: it is public)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden_reason(address.ipv4_mapped)
    for flag, words in (("is_loopback", "loopback"), ("is_link_local", "link-local (cloud metadata)"),
                        ("is_multicast", "multicast"), ("is_unspecified", "unspecified"),
                        ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(address, flag):
            return words
    if not address.is_global:
        return "not a public address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def resolve(endpoint: Endpoint, *, allow_private: bool, resolver: Resolver = system_resolver,
            timeout: float = RESOLVE_TIMEOUT) -> str:
    """The address to connect to: the first one ``endpoint``'s host resolves to, after
    checking them all. :class:`Refused` if any is forbidden or the name does not resolve."""
    try:
        literal = ipaddress.ip_address(endpoint.host.split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        future = _resolver_pool.submit(resolver, endpoint.host, endpoint.port)
        try:
            addresses = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise Refused(f"resolving {endpoint.host} took longer than {timeout:g} s") from None
        except (OSError, UnicodeError) as exc:
            raise Refused(f"{endpoint.host} does not resolve ({exc})") from None
    if not addresses:
        raise Refused(f"{endpoint.host} does not resolve")
    parsed = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = forbidden_reason(address)
        if reason and not allow_private:
            raise Refused(f"{endpoint.host} resolves to {address}, a {reason} address; webhooks go to public "
                          "addresses only (GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE=1 allows others, for development)")
        parsed.append(str(address))
    return parsed[0]


def check_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> str:
    """Validate a URL an admin submits (422 naming ``url``); returns it unchanged."""
    endpoint = parse(url, allow_private=allow_private)
    try:
        resolve(endpoint, allow_private=allow_private, resolver=resolver)
    except Refused as exc:
        raise Invalid(str(exc), field="url", code="url_refused") from None
    return url
