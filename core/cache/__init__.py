"""The tenant-scoped cache: Redis on servers, an in-process LRU when embedded.

Every key is ``gp:{tenant_id}:…`` and is built by :class:`TenantCache`, never by
callers; with Redis each tenant can also be given its own ACL user limited to that
key pattern (:class:`RedisAclProvisioner`), so the server enforces the boundary too.
Get caches from a :class:`CacheFactory`.

Imports nothing of guidepath outside this package (no Flask, no database, no
crypto: passwords arrive as plain strings from whoever derives them).
"""

from __future__ import annotations

from .backends import CacheBackend, MemoryBackend, RedisBackend
from .factory import CacheFactory, PasswordSource
from .keys import MAX_KEY_LENGTH, tenant_prefix, validate_key, validate_tenant_id
from .redis_acl import RedisAclProvisioner, acl_username
from .tenant_cache import TenantCache

__all__ = [
    "MAX_KEY_LENGTH",
    "CacheBackend",
    "CacheFactory",
    "MemoryBackend",
    "PasswordSource",
    "RedisAclProvisioner",
    "RedisBackend",
    "TenantCache",
    "acl_username",
    "tenant_prefix",
    "validate_key",
    "validate_tenant_id",
]
