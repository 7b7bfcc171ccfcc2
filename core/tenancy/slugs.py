"""Tenant slug rules (pure).

A slug becomes the first label of the tenant's host name (``acme.example.com``),
so it must be a valid DNS label; some names are reserved because they are (or may
become) our own hosts.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Relays get host names beside the tenants' (relay1.example.com, relay-eu-2…; see
# deploy/), under the same wildcard certificate.
_RELAY_HOST = re.compile(r"^relay[0-9-]")

RESERVED_SLUGS = frozenset(
    {
        "www", "api", "app", "admin", "auth", "login", "static", "assets", "cdn",
        "mail", "smtp", "imap", "ftp", "relay", "nexus", "status", "health",
        "docs", "help", "support", "billing", "dashboard", "console", "internal",
        "localhost", "guidepath", "root", "system", "test", "demo-admin", "ws",
    }
)


class SlugError(ValueError):
    """The slug cannot be used; the message says why and what would work."""


def validate_slug(slug: str) -> str:
    """Return the slug if it is usable, else raise :class:`SlugError`.

    >>> validate_slug("acme")
    'acme'
    """
    if not isinstance(slug, str) or not slug:
        raise SlugError("slug must be a non-empty string")
    if slug != slug.lower():
        raise SlugError(f"slug {slug!r} must be lower case: try {slug.lower()!r}")
    if len(slug) > 63:
        raise SlugError(f"slug must be at most 63 characters (DNS label), got {len(slug)}")
    if not _LABEL.match(slug):
        raise SlugError(
            f"slug {slug!r} is not a DNS label: use a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    if "--" in slug[2:4]:
        raise SlugError(f"slug {slug!r} looks like an IDN/punycode label (xn--), which is not allowed")
    if slug in RESERVED_SLUGS or _RELAY_HOST.match(slug):
        raise SlugError(f"slug {slug!r} is reserved; choose another name")
    return slug
