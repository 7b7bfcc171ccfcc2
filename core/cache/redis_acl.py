"""One Redis ACL user per tenant, limited to that tenant's keys and channels.

:class:`~guidepath.core.cache.TenantCache` already builds every key, so a tenant
cannot *name* another tenant's key through it. The ACL user makes the server refuse
it too: code that reaches the raw connection (a bug, an injected command) still gets
``NOPERM`` outside ``gp:{tenant_id}:*``.

What the tenant user may do, and why:

* ``+@all -@admin -@dangerous``: ordinary data commands; no server administration,
  ``FLUSHALL``/``FLUSHDB``, ``KEYS``, ``INFO``, ``CONFIG``, ``CLIENT LIST/KILL``,
  ``MONITOR``, ``SORT`` or ``MIGRATE``.
* ``-@scripting``: ``SCRIPT FLUSH``, ``FUNCTION FLUSH/LOAD/DELETE`` and
  ``SCRIPT/FUNCTION KILL`` act on state shared by every tenant, and a cache needs no
  scripts (:class:`~guidepath.core.cache.RedisBackend` uses ``MULTI`` instead).
* ``-scan -randomkey -dbsize -pubsub -memory``: Redis does not filter these by key
  or channel pattern, so they would reveal other tenants' key names, channel names
  or sizes. Key enumeration for ``clear()`` goes through the platform connection
  instead, and the deletions through the tenant's (see ``RedisBackend``).
* ``-client|tracking``: server-assisted client caching is not used; refusing it
  removes a way to watch invalidations.
* ``INFO`` stays refused (``@dangerous``): it shows server-wide key counts and
  clients; readiness checks use ``PING``, which ``+@all`` keeps, as it keeps
  ``SELECT`` (needed when the URL names a database), ``AUTH`` and ``HELLO``.

The ACL boundary only means something when the ``default`` user is disabled or has a
password: anyone who can open a connection could otherwise just use ``default``, and
``RESET`` (which Redis never refuses, whatever the rules) turns any connection back
into ``default``. :meth:`RedisAclProvisioner.default_user_is_open` reports it.
"""

from __future__ import annotations

import hashlib
import logging

import redis

from .backends import client_from_url
from .keys import tenant_prefix, validate_tenant_id

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 16
"""Tenant passwords are derived keys, never typed by people; anything short is a bug."""

TENANT_CATEGORY_RULES: tuple[str, ...] = ("+@all", "-@admin", "-@dangerous", "-@scripting")
TENANT_COMMAND_RULES: tuple[str, ...] = (
    "-scan",
    "-randomkey",
    "-dbsize",
    "-pubsub",
    "-memory",
    "-client|tracking",
)


def acl_username(tenant_id: str) -> str:
    """``gp_{tenant_id}``, the Redis ACL user (and PostgreSQL role) name of a tenant."""
    return f"gp_{validate_tenant_id(tenant_id)}"


def _check_password(password: object) -> str:
    if not isinstance(password, str):
        raise TypeError(f"password must be a str, not {type(password).__name__}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"tenant Redis passwords must be at least {MIN_PASSWORD_LENGTH} characters long")
    return password


class RedisAclProvisioner:
    """Creates, updates and removes tenants' Redis ACL users.

    ``admin_client`` must be allowed ``ACL SETUSER/GETUSER/DELUSER``. Every call is
    idempotent: :meth:`ensure_user` starts from ``reset``, so running it again (or
    after changing the rules in a new release) leaves exactly the current rules.
    """

    def __init__(self, admin_client: redis.Redis) -> None:
        self.admin_client = admin_client

    def ensure_user(self, tenant_id: str, password: str) -> None:
        """Create or update ``gp_{tenant_id}`` with ``password`` and the tenant's rules.

        One ``ACL SETUSER`` command, which Redis applies atomically. ``resetchannels``
        is sent explicitly because ``reset`` grants all channels on servers configured
        with ``acl-pubsub-default allchannels``. Only the SHA-256 of the password is
        sent, so the secret does not cross the admin connection.
        """
        username = acl_username(tenant_id)
        digest = hashlib.sha256(_check_password(password).encode("utf-8")).hexdigest()
        pattern = tenant_prefix(tenant_id) + "*"
        self.admin_client.acl_setuser(
            username,
            reset=True,
            reset_channels=True,
            enabled=True,
            hashed_passwords=["+" + digest],
            categories=list(TENANT_CATEGORY_RULES),
            commands=list(TENANT_COMMAND_RULES),
            keys=[pattern],
            channels=[pattern],
        )
        logger.info("Redis ACL user %s provisioned", username)

    def user_exists(self, tenant_id: str) -> bool:
        return self.admin_client.acl_getuser(acl_username(tenant_id)) is not None

    def delete_user(self, tenant_id: str) -> bool:
        """Remove the tenant's ACL user (Redis also drops its open connections).

        Whether it existed. The tenant's keys are left alone: clear them first.
        """
        username = acl_username(tenant_id)
        deleted = bool(self.admin_client.acl_deluser(username))
        if deleted:
            logger.info("Redis ACL user %s deleted", username)
        return deleted

    def client_for(
        self,
        tenant_id: str,
        password: str,
        url: str,
        *,
        max_connections: int = 8,
    ) -> redis.Redis:
        """A client for ``url`` logged in as the tenant's ACL user.

        Credentials in ``url`` are ignored (they name the platform's user), so the
        client can never quietly end up with more rights than the tenant's. The
        connection is opened lazily; a wrong password shows up on first use as
        ``redis.AuthenticationError``.
        """
        return client_from_url(
            url,
            username=acl_username(tenant_id),
            password=_check_password(password),
            max_connections=max_connections,
        )

    def default_user_is_open(self) -> bool:
        """Whether anyone can connect as ``default`` without a password.

        If so, a tenant's ACL user protects nothing against an attacker who can open
        a connection; production servers must disable ``default`` or give it a
        password.
        """
        info = self.admin_client.acl_getuser("default")
        if info is None:
            return False
        flags = {flag.decode() if isinstance(flag, bytes) else flag for flag in info.get("flags", [])}
        return "on" in flags and "nopass" in flags
