"""Which tenant a request belongs to, from its host name only.

An unknown host gets a 404 with no data and a suspended tenant a 403, before any
view runs; there is no default tenant. Paths in ``GLOBAL_PATHS`` (health checks)
answer on any host.
"""

from __future__ import annotations

from flask import current_app, g, request

from ..domain.errors import DomainError
from ..tenancy.context import TenantContext
from ..tenancy.directory import ACTIVE, SUSPENDED
from ..tenancy.hosts import normalize_host, resolve_slug

GLOBAL_PATHS = ("/healthz", "/readyz")


class UnknownTenant(DomainError):
    status = 404
    code = "not_found"


class TenantSuspended(DomainError):
    status = 403
    code = "tenant_suspended"


def resolve_request_tenant() -> None:
    if request.path in GLOBAL_PATHS:
        g.tenant_ctx = None
        return
    kernel = current_app.extensions["guidepath"]
    host = normalize_host(request.host)
    slug = resolve_slug(host, kernel.config.base_domain)
    tenant = kernel.directory.resolve(host, slug)
    if tenant is None or tenant.status not in (ACTIVE, SUSPENDED):
        raise UnknownTenant("not found")
    if tenant.status == SUSPENDED:
        raise TenantSuspended("this account is suspended; contact your administrator")
    g.tenant_ctx = TenantContext(kernel, tenant)


def tenant_ctx() -> TenantContext:
    ctx = g.get("tenant_ctx")
    if ctx is None:  # a view on a global path asked for a tenant: a programming error
        raise UnknownTenant("not found")
    return ctx
