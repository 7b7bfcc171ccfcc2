"""Which app URLs may be embedded, and their origins. Pure: no IO.

An app URL must be ``https://`` — the app's code comes over the network to the
agent's or customer's browser, and only TLS stops someone on that network from
swapping it. Plain ``http://`` is accepted only for loopback hosts (``localhost``,
``*.localhost``, ``127.0.0.0/8``, ``[::1]``), which browsers treat as secure
contexts and which never leave the viewer's machine, and only when the tenant's
plugin setting ``allow_loopback_http`` is on (development and tests).

    >>> app_origin("https://Apps.Example.com:443/speed?x=1", allow_loopback_http=False)
    'https://apps.example.com'
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from guidepath.core.plugin_api import Invalid

MAX_URL_LENGTH = 2048
#: The longest host name DNS allows; it also keeps an origin within its 300-character column.
MAX_HOST_LENGTH = 253


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_origin(url: str, *, allow_loopback_http: bool, field: str = "url") -> str:
    """The origin (``scheme://host[:port]``, as browsers serialize it) of an app
    URL that may be embedded; :class:`Invalid` naming ``field`` otherwise."""
    if not isinstance(url, str) or not url:
        raise Invalid("give the app's URL, like https://apps.example.com/speed-test/", field=field)
    if len(url) > MAX_URL_LENGTH:
        raise Invalid(f"the URL is longer than {MAX_URL_LENGTH} characters", field=field)
    if not url.isascii() or any(c.isspace() or ord(c) < 0x20 for c in url):
        raise Invalid("the URL must be ASCII without spaces (write international host names in "
                      "punycode and percent-encode the path)", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Invalid(f"the URL cannot be parsed: {exc}", field=field) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise Invalid("the URL must start with https:// and name a host", field=field)
    if len(host) > MAX_HOST_LENGTH:
        raise Invalid(f"the URL's host name is longer than {MAX_HOST_LENGTH} characters (the most DNS "
                      "allows)", field=field)
    if parts.username is not None or parts.password is not None:
        raise Invalid("the URL must not carry a user name or password", field=field)
    if scheme == "http":
        if not is_loopback(host):
            raise Invalid("the URL must use https:// (plain http:// is allowed only for localhost "
                          "and 127.0.0.1, with the plugin setting allow_loopback_http)", field=field)
        if not allow_loopback_http:
            raise Invalid("plain http:// to a loopback host needs the plugin setting "
                          "allow_loopback_http (development and tests only); use https://", field=field)
    default_port = 443 if scheme == "https" else 80
    shown_host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown_host}" + (f":{port}" if port not in (None, default_port) else "")


def usable_problem(url: str, *, allow_loopback_http: bool) -> str | None:
    """Why a registered URL may not be embedded *now* (the setting changed), or ``None``."""
    try:
        app_origin(url, allow_loopback_http=allow_loopback_http)
    except Invalid as exc:
        return exc.message
    return None
