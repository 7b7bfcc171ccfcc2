"""What one ``guidepath`` invocation shares: its configuration, its kernel, and the
rule that user errors end in one clean line instead of a traceback.

The kernel opens databases, so it is built only when a command asks for it, at
most once per invocation, and closed when the invocation ends (also on error).
Plugins adding commands with ``register_cli_commands`` reach the same objects::

    from guidepath.core.cli.context import pass_state

    @click.command()
    @pass_state
    def hello(state):
        click.echo(state.kernel.config.base_domain)

A command that acts for one tenant takes it with :func:`tenant_option`, so that
every such command accepts the tenant the same two ways (``users list acme`` and
``users list --tenant acme``) and says so the same way in its help.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

import click

from ..config import Config, ConfigError, load_config
from ..domain.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import Kernel
    from ..tenancy.context import TenantContext
    from ..tenancy.directory import Tenant
    from ..tenancy.service import TenantService


class CliState:
    """Per-invocation state, stored as the root click context's ``obj``."""

    def __init__(self, data_dir: Path | None = None, *, verbose: bool = False) -> None:
        self.data_dir = data_dir
        self.verbose = verbose
        self._config: Config | None = None
        self._kernel: Kernel | None = None
        self._schema_checked = False

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(data_dir=self.data_dir)
        return self._config

    @property
    def kernel(self) -> Kernel:
        """The kernel, built on first use (the global schema may not be current yet)."""
        if self._kernel is None:
            from ..kernel import Kernel  # opens databases: only when a command needs it

            self._kernel = Kernel(self.config)
        return self._kernel

    def ready_kernel(self) -> Kernel:
        """The kernel with a current global schema.

        In embedded mode there is nobody to coordinate with, so the schema is
        brought up to date on the spot; a server database is only ever upgraded
        by an explicit ``guidepath db upgrade``.
        """
        kernel = self.kernel
        if not self._schema_checked:
            if not kernel.global_schema_current():
                if not self.config.embedded:
                    raise click.ClickException(
                        "the global database schema is not current: run `guidepath db upgrade` first"
                    )
                kernel.upgrade_global()
            self._schema_checked = True
        return kernel

    def tenants(self) -> TenantService:
        from ..tenancy.service import TenantService

        return TenantService(self.ready_kernel())

    def tenant_context(self, slug: str) -> tuple[Tenant, TenantContext]:
        """The tenant with this slug and a context acting for it (an error if unknown)."""
        service = self.tenants()
        tenant = service.require(slug)
        return tenant, service.kernel.context(tenant)

    def close(self) -> None:
        if self._kernel is not None:
            kernel, self._kernel = self._kernel, None
            kernel.close()


pass_state = click.make_pass_decorator(CliState, ensure=True)

F = TypeVar("F", bound=Callable[..., Any])

#: The help of ``--tenant`` on every command that takes a tenant.
TENANT_HELP = "The tenant's slug; the same as giving SLUG as an argument."
_TENANT_ARG = "tenant_slug_argument"
_TENANT_OPT = "tenant_slug_option"


def tenant_option(f: F | None = None, *, required: bool = True) -> Any:
    """Take the tenant as ``SLUG`` (a positional argument after the command's own) or
    ``--tenant SLUG``: either, not both with different values. The command receives it
    as ``slug`` (None when ``required=False`` and neither is given).

    Write the command's help with "the tenant SLUG" so every command reads the same;
    ``tests/core/test_cli.py`` checks every command that takes a tenant, plugins'
    commands included.
    """

    def decorate(func: F) -> F:
        # Decorators apply bottom-up and click reverses them: the option is listed
        # where the decorator is, the argument after the command's other arguments.
        func = click.option("--tenant", _TENANT_OPT, metavar="SLUG", default=None, expose_value=False,
                            callback=_collect_tenant(required), help=TENANT_HELP)(func)
        return click.argument(_TENANT_ARG, metavar="[SLUG]", required=False, expose_value=False,
                              callback=_collect_tenant(required))(func)

    return decorate(f) if f is not None else decorate


def _collect_tenant(required: bool) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        # Both parameters are always processed; the second one to be decides. (Kept on
        # this context, not in ctx.meta, which the whole chain of contexts shares.)
        seen: dict[str, Any] = vars(ctx).setdefault("_guidepath_tenant", {})
        seen[param.name or ""] = value
        if len(seen) < 2:
            return value
        positional, option = seen.get(_TENANT_ARG), seen.get(_TENANT_OPT)
        if positional is not None and option is not None and positional != option:
            raise click.UsageError(
                f"two tenants given: {positional!r} and --tenant {option!r}; give one", ctx)
        slug = positional if positional is not None else option
        if slug is None and required:
            raise click.UsageError("which tenant? Give its SLUG as an argument or as --tenant SLUG", ctx)
        ctx.params["slug"] = slug
        return value

    return callback


def user_error_message(exc: BaseException) -> str | None:
    """The one-line message for an error the user can fix, or None for a bug."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ConfigError):
        return str(exc)
    from ..plugins import PluginError

    if isinstance(exc, PluginError):
        return str(exc)
    try:
        from sqlalchemy.exc import OperationalError
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return None
    if isinstance(exc, OperationalError):
        # Unreachable server, wrong password, locked file: the environment, not us.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"database error: {reason}"
    return None


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn user errors into ``click.ClickException`` (``Error: …`` on stderr, exit 1).

    With ``--verbose`` the original traceback is logged at debug level first.
    """
    try:
        yield
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001 - anything else is re-raised below
        message = user_error_message(exc)
        if message is None:
            raise
        ctx = click.get_current_context(silent=True)
        state = ctx.find_object(CliState) if ctx else None
        if state is not None and state.verbose:
            logging.getLogger("guidepath.cli").debug("user error", exc_info=True)
        raise click.ClickException(message) from None


class _BriefFormatter(logging.Formatter):
    """Log lines for a terminal: the message plus its structured ``extra`` fields,
    and the traceback only when asked for with ``--verbose``."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

    def __init__(self, tracebacks: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record) if self.tracebacks else self._no_traceback(record)
        extras = {k: v for k, v in vars(record).items() if k not in self._STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in sorted(extras.items()))
        return line

    def _no_traceback(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        return self.formatMessage(record)


def configure_logging(verbose: bool) -> None:
    """Send warnings (or, verbose, everything) to stderr, unless someone already
    configured logging (an embedding program, pytest)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_BriefFormatter(tracebacks=verbose))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
