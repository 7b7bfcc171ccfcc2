"""Tenancy: the tenant directory (global database), slug and host rules, the
container registry, and provisioning of each tenant's storage (a PostgreSQL schema
and login role in a container database, or an SQLite file when embedded).

Must not import Flask, the web package or any plugin.
"""

from .directory import Container, Tenant, TenantDirectory
from .hosts import resolve_slug
from .slugs import SlugError, validate_slug

__all__ = [
    "Container",
    "SlugError",
    "Tenant",
    "TenantDirectory",
    "resolve_slug",
    "validate_slug",
]
