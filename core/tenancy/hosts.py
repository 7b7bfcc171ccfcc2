"""Host name → tenant slug (pure).

``acme.example.com`` → ``acme`` when the base domain is ``example.com``. Anything
else (the bare base domain, deeper sub-domains, other domains, IP addresses) is not
a tenant host and gets no tenant — there is no default tenant.
"""

from __future__ import annotations


def normalize_host(host: str) -> str:
    """Lower-case, drop the port and a trailing dot."""
    host = (host or "").strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".")


def resolve_slug(host: str, base_domain: str) -> str | None:
    """Return the tenant slug named by ``host``, or None.

    >>> resolve_slug("acme.localhost:8000", "localhost")
    'acme'
    >>> resolve_slug("a.b.localhost", "localhost") is None
    True
    """
    host = normalize_host(host)
    base = base_domain.strip().lower().rstrip(".")
    suffix = "." + base
    if not host.endswith(suffix):
        return None
    label = host[: -len(suffix)]
    if not label or "." in label:
        return None
    return label
