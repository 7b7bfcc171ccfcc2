"""Effective configuration: environment variables over ``guidepath.toml`` over defaults.

The public contract (``../shared/DESIGN.md``) names the variables. Everything the
kernel needs is resolved here once, into an immutable :class:`Config`, so that no
module reads ``os.environ`` on its own and tests can build any configuration they
like without touching the process environment.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "GUIDEPATH_"
REDACTED = "********"

#: Settings that no longer do anything, still accepted (with a warning) so that an
#: older guidepath.toml keeps loading: {name: what to do instead}.
RETIRED = {
    "relay_url": "relays are found, not configured: the in-process relay (embedded) picks free "
                 "ports at start-up, `guidepath relay` processes register themselves in Redis",
}

log = logging.getLogger("guidepath.config")


class ConfigError(ValueError):
    """The configuration cannot work; the message says which setting and why."""


@dataclass(frozen=True)
class Config:
    """The settings of one process, read once (:func:`load_config`) and frozen.

    Each field is a ``GUIDEPATH_*`` environment variable or a key of
    ``guidepath.toml`` beside the data folder; the defaults make embedded mode
    (SQLite, in-process cache and bus) work with nothing set. ``guidepath config
    show`` prints the effective values with secrets redacted. Plugins read it as
    ``ctx.kernel.config`` and should not keep their own copy.
    """

    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    kafka_bootstrap: str | None = None
    master_key: str | None = None
    base_domain: str = "localhost"
    webhooks_allow_private: bool = False
    #: Signs cookies; derived from the master key when unset.
    secret_key: str | None = None
    #: Upper bound on PostgreSQL connections this process holds to tenant schemas,
    #: across all tenants (see core/db/tenant_pools.py).
    tenant_pool_max_connections: int = 40
    tenant_pool_size: int = 2
    max_request_bytes: int = 1_048_576
    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    redis_acl: bool = True
    #: How long (seconds) a node may reuse an API key's check without asking the
    #: database. Revoking a key takes effect at once on the node that revoked it
    #: and within this many seconds on the others; 0 checks every request.
    credential_cache_seconds: int = 2
    #: How many reverse proxies (nginx, a load balancer) sit in front of the app and
    #: set ``X-Forwarded-For``/``X-Forwarded-Proto``. 0 trusts none: a client could
    #: otherwise claim HTTPS or any address. ``deploy/`` uses 1.
    trusted_proxies: int = 0
    #: Consumer group session timeout. A pattern subscriber rejoins its group each
    #: time a new tenant's topics appear, and a join waits about half of this, so a
    #: deployment that creates tenants often (or a test suite) wants it short.
    kafka_session_timeout_ms: int = 10_000
    #: Installed plugins not to load at all in this deployment (comma-separated in
    #: the environment), e.g. to replace a built-in with a partner's plugin.
    disabled_plugins: tuple[str, ...] = ()
    #: ``guidepath run`` in server mode (gunicorn): worker processes (0: one per CPU),
    #: threads per worker (0: the default, 1000; each open WebSocket holds one), and
    #: how long a stopping node lets in-flight requests finish (open WebSockets are
    #: closed with 1001 at once). Embedded mode serves with one threaded process.
    web_workers: int = 0
    web_threads: int = 0
    web_shutdown_seconds: int = 30
    extra: Mapping[str, Any] = field(default_factory=dict)

    # -- derived -----------------------------------------------------------------

    @property
    def embedded(self) -> bool:
        """Embedded mode: no database server; SQLite, in-process cache and bus."""
        return self.database_url is None or self.database_url.startswith("sqlite")

    @property
    def global_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'global.sqlite').resolve()}"

    @property
    def relays(self) -> str:
        """Where the relays are, in words (there is no relay address to configure:
        the app learns the relays' addresses when they start)."""
        if self.redis_url is None:
            return ("in-process: `guidepath run` starts a relay on free ports of 127.0.0.1, "
                    "picked at start-up, and prints them")
        return "separate `guidepath relay` processes, which register themselves through redis_url"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def tenants_dir(self) -> Path:
        return self.data_dir / "tenants"

    @property
    def master_key_path(self) -> Path:
        return self.data_dir / "master.key"

    def redacted(self) -> dict[str, Any]:
        """The configuration as a dict fit to print: secrets and passwords hidden."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in {"master_key", "secret_key"} and value:
                value = REDACTED
            elif isinstance(value, str) and "://" in value:
                value = redact_url(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["mode"] = "embedded" if self.embedded else "server"
        out["relays"] = self.relays
        return out

    def validate(self) -> None:
        """Refuse configurations that would be unsafe or cannot work."""
        if not self.embedded and not self.master_key:
            raise ConfigError(
                "GUIDEPATH_MASTER_KEY is required outside embedded mode: set it to the "
                "base64 of 32 random bytes, e.g. "
                "`python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'`"
            )
        if self.tenant_pool_size < 1 or self.tenant_pool_max_connections < self.tenant_pool_size:
            raise ConfigError(
                "tenant_pool_max_connections must be at least tenant_pool_size (>= 1)"
            )
        if not 0 <= self.trusted_proxies <= 5:
            raise ConfigError("GUIDEPATH_TRUSTED_PROXIES must be between 0 and 5 (proxies in front of the app)")
        if not 0 <= self.credential_cache_seconds <= 60:
            raise ConfigError(
                "GUIDEPATH_CREDENTIAL_CACHE_SECONDS must be between 0 and 60 (how long a "
                "revoked API key may still work on another node)"
            )
        if not 0 <= self.web_workers <= 256:
            raise ConfigError("GUIDEPATH_WEB_WORKERS must be between 0 (one per CPU) and 256")
        if not 0 <= self.web_threads <= 100_000:
            raise ConfigError("GUIDEPATH_WEB_THREADS must be between 0 (the default) and 100000")
        if not 0 <= self.web_shutdown_seconds <= 3600:
            raise ConfigError("GUIDEPATH_WEB_SHUTDOWN_SECONDS must be between 0 and 3600")
        if not self.base_domain or self.base_domain.startswith("."):
            raise ConfigError("GUIDEPATH_BASE_DOMAIN must be a host name like example.com")

    def with_(self, **changes: Any) -> "Config":
        return replace(self, **changes)


def redact_url(url: str) -> str:
    """Hide the password in ``scheme://user:password@host/...``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user, colon, _ = creds.partition(":")
    return f"{scheme}://{user}{':' + REDACTED if colon else ''}@{host}"


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, raw: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _BOOL_TRUE:
            return True
        if text in _BOOL_FALSE:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be 1 or 0, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be an integer, got {raw!r}") from None
    if kind is Path:
        return Path(str(raw))
    if kind is tuple:
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        return tuple(str(i).strip() for i in items if str(i).strip())
    return str(raw) if raw is not None else None


_KINDS: dict[str, type] = {
    "data_dir": Path,
    "disabled_plugins": tuple,
    "webhooks_allow_private": bool,
    "redis_acl": bool,
    "tenant_pool_max_connections": int,
    "tenant_pool_size": int,
    "credential_cache_seconds": int,
    "trusted_proxies": int,
    "kafka_session_timeout_ms": int,
    "max_request_bytes": int,
    "login_max_failures": int,
    "login_lockout_seconds": int,
    "web_workers": int,
    "web_threads": int,
    "web_shutdown_seconds": int,
}


def load_config(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> Config:
    """Build the effective configuration.

    Order of precedence: ``overrides`` (tests, CLI flags) > environment >
    ``guidepath.toml`` in the data folder > defaults.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    names = [f.name for f in fields(Config) if f.name != "extra"]

    data_dir = Path(overrides.get("data_dir") or env.get(f"{ENV_PREFIX}DATA_DIR") or "./var")
    toml_path = data_dir / "guidepath.toml"
    if toml_path.exists():
        try:
            file_values = tomllib.loads(toml_path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: {exc}") from None
        for name in RETIRED.keys() & file_values.keys():
            log.warning("%s: %s is no longer used (%s); remove it", toml_path, name, RETIRED[name])
            del file_values[name]
        unknown = set(file_values) - set(names)
        if unknown:
            raise ConfigError(f"{toml_path}: unknown settings {sorted(unknown)}")
        values.update(file_values)

    for name in RETIRED:
        if env.get(f"{ENV_PREFIX}{name.upper()}"):
            log.warning("%s%s is no longer used (%s)", ENV_PREFIX, name.upper(), RETIRED[name])
    for name in names:
        key = f"{ENV_PREFIX}{name.upper()}"
        if key in env and env[key] != "":
            values[name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["data_dir"] = data_dir

    coerced = {
        name: _coerce(name, value, _KINDS.get(name, str)) for name, value in values.items()
    }
    config = Config(**coerced)
    config.validate()
    return config
