"""``guidepath plugins``: what is installed, and each tenant's choices.

Settings are validated against the plugin's JSON Schema by the same code the
admin API uses (``domain.plugin_settings.save``), so the CLI cannot store what
the web console would refuse. JSON given on the command line is parsed by the
same strict parser as request bodies (``domain.strict_json``: no NaN, integers
within 64 bits, at most 64 levels deep).
"""

from __future__ import annotations

from typing import Any

import click

from ..domain import strict_json
from .context import CliState, pass_state, tenant_option
from .output import echo_json, echo_table


@click.group()
def plugins() -> None:
    """List installed plugins; enable, disable and configure them for the tenant SLUG.

    \b
    Examples:
      guidepath plugins list acme                (or: plugins list --tenant acme)
      guidepath plugins enable webhooks acme     (or: plugins enable webhooks --tenant acme)
    """


def _require_plugin(manager: Any, name: str) -> Any:
    if not manager.has(name):
        installed = ", ".join(i.name for i in manager.infos()) or "none"
        raise click.ClickException(f"unknown plugin {name!r}; installed plugins: {installed}")
    return manager.info(name)


def parse_value(raw: str) -> Any:
    """``--set`` values: JSON when they parse (``3``, ``true``, ``["a"]``), else text
    (``NaN`` and out-of-range numbers are not JSON here, so they stay text)."""
    try:
        return strict_json.loads(raw)
    except ValueError:
        return raw


def parse_assignments(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        out[key.strip()] = parse_value(raw)
    return out


def save_state(state: CliState, slug: str, name: str, *, enabled: bool | None = None,
               settings: dict[str, Any] | None = None,
               changes: dict[str, Any] | None = None) -> Any:
    """Store a tenant's choice for one plugin and tell the plugins about it.

    ``settings`` replaces the stored settings; ``changes`` is applied on top of
    ``settings`` or, without it, on top of what is stored (not of the defaults,
    so that a default changed in a later plugin version still applies).
    """
    from ..domain import plugin_settings

    tenant, ctx = state.tenant_context(slug)
    kernel = ctx.kernel
    info = _require_plugin(kernel.plugins, name)
    data: dict[str, Any] = {}
    if enabled is not None:
        data["enabled"] = enabled
    if settings is not None or changes:
        if settings is None:
            with ctx.engine.connect() as conn:
                settings = plugin_settings.stored(conn).get(name, (info.default_enabled, {}))[1]
        data["settings"] = {**settings, **(changes or {})}
    # The same path as the admin API: validated, audited, an event, the hook.
    saved = kernel.configure_plugin(ctx, name, data, actor="cli")
    return saved


@plugins.command("list")
@tenant_option(required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_(state: CliState, slug: str | None, as_json: bool) -> None:
    """List installed plugins, or their state for the tenant SLUG when given."""
    if slug is None:
        _list_installed(as_json)
        return
    _tenant, ctx = state.tenant_context(slug)
    kernel = ctx.kernel
    states = kernel.plugin_states(ctx)
    rows = [
        {"name": info.name, "version": info.version, "enabled": states[info.name].enabled,
         "settings": states[info.name].settings}
        for info in kernel.plugins.infos() if info.name in states
    ]
    if as_json:
        echo_json(rows)
        return
    echo_table(["name", "version", "enabled", "settings"],
               [[r["name"], r["version"], r["enabled"], r["settings"]] for r in rows],
               empty="No plugins are installed.")


def _list_installed(as_json: bool) -> None:
    # No kernel: listing what is installed needs no database.
    from ..plugins import PluginManager

    manager = PluginManager()
    manager.load_entrypoints()
    rows = [
        {"name": i.name, "version": i.version, "default_enabled": i.default_enabled,
         "builtin": i.builtin, "description": i.description}
        for i in manager.infos()
    ]
    if as_json:
        echo_json(rows)
    else:
        echo_table(["name", "version", "default", "builtin", "description"],
                   [[r["name"], r["version"], "enabled" if r["default_enabled"] else "disabled",
                     r["builtin"], r["description"]] for r in rows],
                   empty="No plugins are installed.")
    for failure in manager.load_failures:
        click.echo(f"Warning: plugin {failure.name!r} failed to load: {failure.error}", err=True)


@plugins.command("enable")
@click.argument("name")
@tenant_option
@pass_state
def enable(state: CliState, name: str, slug: str) -> None:
    """Enable plugin NAME for the tenant SLUG."""
    save_state(state, slug, name, enabled=True)
    click.echo(f"Plugin {name!r} enabled for tenant {slug!r}.")


@plugins.command("disable")
@click.argument("name")
@tenant_option
@pass_state
def disable(state: CliState, name: str, slug: str) -> None:
    """Disable plugin NAME for the tenant SLUG."""
    save_state(state, slug, name, enabled=False)
    click.echo(f"Plugin {name!r} disabled for tenant {slug!r}.")


@plugins.command("configure")
@click.argument("name")
@tenant_option
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Change one setting (repeatable); VALUE is JSON if it parses, else text.")
@click.option("--json", "settings_json", default=None, metavar="JSON",
              help="Replace all settings with this JSON object (--set applies on top).")
@pass_state
def configure(state: CliState, name: str, slug: str, assignments: tuple[str, ...],
              settings_json: str | None) -> None:
    """Change plugin NAME's settings for the tenant SLUG.

    \b
    Examples:
      guidepath plugins configure webhooks --tenant acme --set max_attempts=5
      guidepath plugins configure analytics --tenant acme --json '{"retention_days": 30}'
    """
    if not assignments and settings_json is None:
        raise click.UsageError("give --set KEY=VALUE (repeatable) or --json '{...}'")
    changes = parse_assignments(assignments)
    settings: dict[str, Any] | None = None
    if settings_json is not None:
        try:
            settings = strict_json.loads(settings_json)
        except strict_json.BadJSON as exc:
            raise click.BadParameter(f"not JSON: {exc.message}", param_hint="--json") from None
        if not isinstance(settings, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--json")
    saved = save_state(state, slug, name, settings=settings, changes=changes)
    click.echo(f"Plugin {name!r} configured for tenant {slug!r}:")
    echo_json({"enabled": saved.enabled, "settings": saved.settings})
