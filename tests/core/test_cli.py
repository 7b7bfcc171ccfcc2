"""Tests for the ``guidepath`` command line (guidepath.core.cli), run in process with
click's CliRunner against an embedded data folder (plus one PostgreSQL test)."""

from __future__ import annotations

import base64
import importlib.machinery
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any, Callable, NoReturn

import pytest
from click.testing import CliRunner, Result

from guidepath.core.cli import build_cli, cli

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI must see embedded defaults, whatever the developer's shell exports.
    for key in list(os.environ):
        if key.startswith("GUIDEPATH_"):
            monkeypatch.delenv(key)


Invoke = Callable[..., Result]


@pytest.fixture
def gp(tmp_path: Path) -> Invoke:
    """Run ``guidepath --data-dir tmp_path ARGS…`` in process."""
    runner = CliRunner()
    data_dir = tmp_path / "data"

    def invoke(*args: str, input: str | None = None, group: Any = None) -> Result:
        return runner.invoke(group or cli, ["--data-dir", str(data_dir), *args], input=input)

    invoke.data_dir = data_dir  # type: ignore[attr-defined]
    return invoke


def ok(result: Result) -> Result:
    if result.exit_code != 0:
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        pytest.fail(f"exit {result.exit_code}: {result.output}")
    return result


def failed(result: Result, message: str, *, code: int = 1) -> None:
    """A clean user error: ``Error: …`` on stderr, the exit code, no traceback."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Error: " in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output


def tenants_json(gp: Invoke) -> list[dict[str, Any]]:
    return json.loads(ok(gp("tenants", "list", "--json")).stdout)


# -- shape of the command line ------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = ok(CliRunner().invoke(cli, ["--help"]))
    for name in ("run", "db", "tenants", "containers", "users", "plugins", "config"):
        assert f"  {name} " in result.output
    assert "--data-dir" in result.output
    subcommands = {
        "db": ["upgrade"],
        "tenants": ["create", "list", "show", "suspend", "resume", "delete"],
        "containers": ["add", "list"],
        "users": ["create", "list"],
        "plugins": ["list", "enable", "disable", "configure"],
        "config": ["show"],
    }
    for group, names in subcommands.items():
        output = ok(CliRunner().invoke(cli, [group, "--help"])).output
        for name in names:
            assert f"  {name} " in output, (group, name)
    run_help = ok(CliRunner().invoke(cli, ["run", "--help"])).output
    for option in ("--demo", "--host", "--port"):
        assert option in run_help


def leaf_commands(group: Any, ctx: Any, path: tuple[str, ...] = ()) -> Any:
    """Every runnable command under ``group`` (plugins' commands included), with its path."""
    import click

    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from leaf_commands(command, ctx, (*path, name))
        else:
            yield (*path, name), command


def placeholder_args(command: Any, tmp_path: Path) -> list[str]:
    """Values for a command's required arguments and options other than the tenant."""
    import click

    args: list[str] = []
    existing = tmp_path / "placeholder.json"
    existing.write_text("{}")
    for param in command.params:
        if param.name.startswith("tenant_slug_") or not param.required:
            continue
        value = str(existing) if isinstance(param.type, click.Path) else "x"
        if isinstance(param.type, click.Choice):
            value = param.type.choices[0]
        args += [value] if isinstance(param, click.Argument) else [param.opts[0], value]
    return args


def test_every_command_taking_a_tenant_takes_it_the_same_two_ways(tmp_path: Path) -> None:
    """``users list acme`` and ``users list --tenant acme`` are one command, everywhere:
    core's commands and those plugins add (``paths``), with the same words in --help."""
    import click

    from guidepath.core.cli.context import TENANT_HELP

    root = build_cli()
    root_ctx = click.Context(root, info_name="guidepath")
    taking: dict[str, Any] = {}
    for path, command in leaf_commands(root, root_ctx):
        names = {p.name for p in command.params}
        options = {opt for p in command.params for opt in getattr(p, "opts", [])}
        # The old ways, each command on its own: a bare SLUG argument or --tenant option.
        assert "slug" not in names, f"{' '.join(path)}: take the tenant with tenant_option"
        if "--tenant" in options or names & {"tenant_slug_argument", "tenant_slug_option"}:
            taking[" ".join(path)] = command
    assert {"users list", "users create", "plugins list", "plugins enable", "plugins configure",
            "tenants show", "tenants delete", "paths list", "paths import", "paths export"} <= set(taking)
    assert not {"tenants list", "config show", "db upgrade", "run", "relay"} & set(taking)

    for path, command in taking.items():
        params = {p.name: p for p in command.params}
        assert {"tenant_slug_argument", "tenant_slug_option"} <= set(params), path
        assert params["tenant_slug_option"].opts == ["--tenant"], path
        assert params["tenant_slug_option"].help == TENANT_HELP, path
        help_text = ok(CliRunner().invoke(root, [*path.split(), "--help"])).output
        assert "[SLUG]" in help_text.splitlines()[0], (path, help_text)  # Usage: … [SLUG]
        assert "tenant SLUG" in " ".join(help_text.split()), (path, help_text)

        other = placeholder_args(command, tmp_path)
        positional = command.make_context(path, [*other, "acme"], parent=root_ctx)
        option = command.make_context(path, [*other, "--tenant", "acme"], parent=root_ctx)
        assert positional.params["slug"] == option.params["slug"] == "acme", path
        same = command.make_context(path, [*other, "acme", "--tenant", "acme"], parent=root_ctx)
        assert same.params["slug"] == "acme"
        with pytest.raises(click.UsageError, match="two tenants given"):
            command.make_context(path, [*other, "acme", "--tenant", "other"], parent=root_ctx)
        if path == "plugins list":  # the one where the tenant is optional
            assert command.make_context(path, [], parent=root_ctx).params["slug"] is None
        else:
            with pytest.raises(click.UsageError, match="Give its SLUG as an argument or as --tenant SLUG"):
                command.make_context(path, other, parent=root_ctx)


def test_the_tenant_as_argument_or_option_does_the_same(gp: Invoke) -> None:
    ok(gp("tenants", "create", "acme", "--admin-email", "boss@acme.example", "--admin-password", PASSWORD))
    ok(gp("users", "create", "acme", "--email", "ann@acme.example", "--password", PASSWORD))
    by_argument = ok(gp("users", "list", "acme", "--json")).stdout
    assert by_argument == ok(gp("users", "list", "--tenant", "acme", "--json")).stdout
    assert {u["email"] for u in json.loads(by_argument)} == {"boss@acme.example", "ann@acme.example"}
    assert ok(gp("paths", "list", "acme")).stdout == ok(gp("paths", "list", "--tenant", "acme")).stdout
    assert json.loads(ok(gp("tenants", "show", "--tenant", "acme")).stdout)["slug"] == "acme"

    missing = gp("users", "list")
    assert missing.exit_code == 2 and "Give its SLUG as an argument or as --tenant SLUG" in missing.stderr
    twice = gp("users", "list", "acme", "--tenant", "other")
    assert twice.exit_code == 2 and "two tenants given" in twice.stderr


def test_importing_the_cli_imports_neither_flask_nor_the_kernel() -> None:
    code = (
        "import sys, guidepath.core.cli\n"
        "bad = [m for m in ('flask', 'guidepath.core.kernel', 'guidepath.core.web') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_console_script_entry_point_is_main() -> None:
    from guidepath.core.cli import main

    (script,) = [ep for ep in importlib.metadata.entry_points(group="console_scripts")
                 if ep.name == "guidepath"]
    assert script.load() is main


# -- tenants --------------------------------------------------------------------------


def test_tenant_round_trip(gp: Invoke) -> None:
    assert "No tenants." in ok(gp("tenants", "list")).output

    created = ok(gp("tenants", "create", "acme", "--name", "Acme Inc"))
    assert "acme" in created.output and "acme.localhost" in created.output

    table = ok(gp("tenants", "list")).stdout.splitlines()
    assert table[0].split() == ["SLUG", "ID", "STATUS", "CONTAINER", "CREATED"]
    assert table[1].split()[0] == "acme" and "active" in table[1]

    (listed,) = tenants_json(gp)
    shown = json.loads(ok(gp("tenants", "show", "acme")).stdout)
    assert shown["id"] == listed["id"] and shown["id"].startswith("t")
    assert shown["name"] == "Acme Inc"
    assert shown["status"] == "active"
    assert shown["host"] == "acme.localhost"
    assert "wrapped_key" not in shown

    ok(gp("tenants", "suspend", "acme"))
    assert json.loads(ok(gp("tenants", "show", "acme")).stdout)["status"] == "suspended"
    failed(gp("tenants", "suspend", "acme"), "not active")

    ok(gp("tenants", "resume", "acme"))
    assert json.loads(ok(gp("tenants", "show", "acme")).stdout)["status"] == "active"
    failed(gp("tenants", "resume", "acme"), "not suspended")

    # Deleting asks first; "no" keeps the tenant.
    refused = gp("tenants", "delete", "acme", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert [t["slug"] for t in tenants_json(gp)] == ["acme"]

    ok(gp("tenants", "delete", "acme", input="y\n"))
    assert tenants_json(gp) == []
    failed(gp("tenants", "show", "acme"), "no tenant with slug 'acme'")
    failed(gp("tenants", "delete", "acme", "--yes"), "no tenant with slug 'acme'")


def test_delete_with_yes_does_not_ask(gp: Invoke) -> None:
    ok(gp("tenants", "create", "globex"))
    result = ok(gp("tenants", "delete", "globex", "--yes"))
    assert "[y/N]" not in result.output
    assert tenants_json(gp) == []


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Acme", "must be lower case"),
        ("bad_slug", "is not a DNS label"),
        ("acme-", "is not a DNS label"),
        ("a" * 64, "at most 63 characters"),
        ("admin", "is reserved"),
        ("www", "is reserved"),
    ],
)
def test_unusable_slug_is_refused_and_creates_nothing(gp: Invoke, slug: str, message: str) -> None:
    failed(gp("tenants", "create", slug), message)
    assert tenants_json(gp) == []


def test_duplicate_slug_is_refused(gp: Invoke) -> None:
    ok(gp("tenants", "create", "acme"))
    failed(gp("tenants", "create", "acme"), "already exists")
    assert [t["slug"] for t in tenants_json(gp)] == ["acme"]


def test_admin_email_without_password_and_no_terminal_is_a_usage_error(gp: Invoke) -> None:
    result = gp("tenants", "create", "acme", "--admin-email", "boss@acme.example")
    assert result.exit_code == 2
    assert "--admin-password" in result.stderr
    assert tenants_json(gp) == []


def test_bad_admin_is_refused_before_anything_is_provisioned(gp: Invoke) -> None:
    failed(gp("tenants", "create", "acme", "--admin-email", "boss@acme.example",
              "--admin-password", "short"), "password")
    assert tenants_json(gp) == []


# -- users ----------------------------------------------------------------------------


def test_users_create_and_list(gp: Invoke) -> None:
    ok(gp("tenants", "create", "acme", "--admin-email", "Boss@Acme.example",
          "--admin-password", PASSWORD))
    created = ok(gp("users", "create", "--tenant", "acme", "--email", "ann@acme.example",
                    "--password", PASSWORD, "--role", "agent", "--name", "Ann"))
    assert "ann@acme.example" in created.output

    users = json.loads(ok(gp("users", "list", "--tenant", "acme", "--json")).stdout)
    by_email = {u["email"]: u for u in users}
    assert set(by_email) == {"boss@acme.example", "ann@acme.example"}
    assert by_email["boss@acme.example"]["role"] == "admin"
    assert by_email["ann@acme.example"]["role"] == "agent"
    assert by_email["ann@acme.example"]["name"] == "Ann"
    assert all("password" not in key for u in users for key in u)

    table = ok(gp("users", "list", "--tenant", "acme")).stdout
    assert table.splitlines()[0].split()[:4] == ["ID", "EMAIL", "NAME", "ROLE"]
    assert "ann@acme.example" in table and "boss@acme.example" in table

    failed(gp("users", "create", "--tenant", "acme", "--email", "ANN@acme.example",
              "--password", PASSWORD), "already exists")
    failed(gp("users", "create", "--tenant", "acme", "--email", "not-an-email",
              "--password", PASSWORD), "email")
    failed(gp("users", "create", "--tenant", "nope", "--email", "x@y.example",
              "--password", PASSWORD), "no tenant with slug 'nope'")
    bad_role = gp("users", "create", "--tenant", "acme", "--email", "x@y.example",
                  "--password", PASSWORD, "--role", "owner")
    assert bad_role.exit_code == 2
    assert len(json.loads(ok(gp("users", "list", "--tenant", "acme", "--json")).stdout)) == 2


def test_users_list_pages_through_everyone(gp: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    from guidepath.core.cli import users_cmd

    monkeypatch.setattr(users_cmd, "PAGE", 2)
    ok(gp("tenants", "create", "acme"))
    for i in range(5):
        ok(gp("users", "create", "--tenant", "acme", "--email", f"u{i}@acme.example",
              "--password", PASSWORD))
    users = json.loads(ok(gp("users", "list", "--tenant", "acme", "--json")).stdout)
    assert sorted(u["email"] for u in users) == [f"u{i}@acme.example" for i in range(5)]


# -- plugins --------------------------------------------------------------------------

PLUGIN_SOURCE = '''
import click
from guidepath.core.plugins import PluginInfo, hookimpl

PLUGIN = PluginInfo(
    name="hello",
    version="1.2.3",
    description="Says hello.",
    settings_schema={
        "type": "object",
        "properties": {
            "greeting": {"type": "string", "default": "hi"},
            "times": {"type": "integer", "minimum": 1},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": False,
    },
    default_enabled=False,
)
CHANGES = []


@hookimpl
def register_cli_commands(cli):
    @cli.command("hello")
    def hello():
        """Say hello (from a plugin)."""
        click.echo("hello from a plugin")


@hookimpl
def plugin_settings_changed(tenant, plugin_name, enabled, settings):
    CHANGES.append((tenant.slug, plugin_name, enabled, dict(settings)))
'''


@pytest.fixture
def hello_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Install a plugin named ``hello`` through the real entry-point group."""
    module_name = "gp_cli_test_hello_plugin"
    src = tmp_path / "plugin_src"
    src.mkdir()
    (src / f"{module_name}.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    monkeypatch.syspath_prepend(str(src))
    monkeypatch.delitem(sys.modules, module_name, raising=False)

    real_entry_points = importlib.metadata.entry_points
    fake = importlib.metadata.EntryPoint(name="hello", value=module_name, group="guidepath.plugins")

    def entry_points(**params: Any) -> Any:
        found = real_entry_points(**params)
        if params.get("group") == "guidepath.plugins":
            return [*found, fake]
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    module = importlib.import_module(module_name)
    yield module
    sys.modules.pop(module_name, None)


def plugin_rows(gp: Invoke, slug: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(ok(gp("plugins", "list", "--tenant", slug, "--json")).stdout)
    return {r["name"]: r for r in rows}


def test_plugins_list_enable_configure_disable(gp: Invoke, hello_plugin: types.ModuleType) -> None:
    installed = ok(gp("plugins", "list"))
    line = next(line for line in installed.stdout.splitlines() if line.startswith("hello "))
    assert "1.2.3" in line and "disabled" in line
    (row,) = [r for r in json.loads(ok(gp("plugins", "list", "--json")).stdout) if r["name"] == "hello"]
    assert row == {"name": "hello", "version": "1.2.3", "default_enabled": False,
                   "builtin": False, "description": "Says hello."}

    ok(gp("tenants", "create", "acme"))
    ok(gp("tenants", "create", "globex"))
    assert plugin_rows(gp, "acme")["hello"]["enabled"] is False
    assert plugin_rows(gp, "acme")["hello"]["settings"] == {"greeting": "hi"}

    ok(gp("plugins", "enable", "hello", "--tenant", "acme"))
    assert plugin_rows(gp, "acme")["hello"]["enabled"] is True
    assert plugin_rows(gp, "globex")["hello"]["enabled"] is False
    assert hello_plugin.CHANGES[-1] == ("acme", "hello", True, {"greeting": "hi"})

    ok(gp("plugins", "configure", "hello", "--tenant", "acme",
          "--set", "times=3", "--set", "greeting=hey there", "--set", 'tags=["a", "b"]'))
    assert plugin_rows(gp, "acme")["hello"]["settings"] == {
        "greeting": "hey there", "times": 3, "tags": ["a", "b"]}
    # --set changes one key and keeps the others.
    ok(gp("plugins", "configure", "hello", "--tenant", "acme", "--set", "times=4"))
    assert plugin_rows(gp, "acme")["hello"]["settings"]["greeting"] == "hey there"
    assert plugin_rows(gp, "acme")["hello"]["settings"]["times"] == 4
    # --json replaces them all (defaults fill the gaps).
    ok(gp("plugins", "configure", "hello", "--tenant", "acme", "--json", '{"times": 2}'))
    assert plugin_rows(gp, "acme")["hello"]["settings"] == {"greeting": "hi", "times": 2}

    failed(gp("plugins", "configure", "hello", "--tenant", "acme", "--set", "times=0"), "settings.times")
    failed(gp("plugins", "configure", "hello", "--tenant", "acme", "--set", "colour=red"), "colour")
    assert plugin_rows(gp, "acme")["hello"]["settings"] == {"greeting": "hi", "times": 2}
    assert gp("plugins", "configure", "hello", "--tenant", "acme").exit_code == 2
    assert gp("plugins", "configure", "hello", "--tenant", "acme", "--json", "[1]").exit_code == 2

    # The plugin being disabled is told too, so it can clean up.
    ok(gp("plugins", "disable", "hello", "--tenant", "acme"))
    assert plugin_rows(gp, "acme")["hello"]["enabled"] is False
    assert hello_plugin.CHANGES[-1][:3] == ("acme", "hello", False)

    # Each of the five changes is audited and announced, as through the admin API.
    from guidepath.core.cli.context import CliState
    from sqlalchemy import func, select

    from guidepath.core.domain import audit
    from guidepath.core.events.outbox import event_outbox

    state = CliState(gp.data_dir)
    try:
        _tenant, ctx = state.tenant_context("acme")
        with ctx.begin() as conn:
            actions = [(a["actor"], a["action"], a["target"]) for a in audit.recent(conn)["items"]]
            announced = conn.execute(select(func.count()).select_from(event_outbox).where(
                event_outbox.c.type == "plugin.settings_changed")).scalar_one()
    finally:
        state.close()
    assert actions.count(("cli", "plugin.configured", "hello")) == 5
    assert announced == 5

    failed(gp("plugins", "enable", "nope", "--tenant", "acme"), "unknown plugin 'nope'")
    assert "hello" in gp("plugins", "enable", "nope", "--tenant", "acme").stderr
    failed(gp("plugins", "enable", "hello", "--tenant", "nope"), "no tenant with slug 'nope'")


@pytest.mark.parametrize("settings, words", [
    ('{"times": NaN}', "NaN is not a JSON number"),
    ('{"times": ' + "9" * 5000 + "}", "outside the accepted range"),
    ('{"times": ' + "[" * 100_000 + "]" * 100_000 + "}", "levels deep"),  # was a RecursionError traceback
])
def test_plugins_configure_json_uses_the_strict_parser(gp: Invoke, hello_plugin: types.ModuleType,
                                                       settings: str, words: str) -> None:
    ok(gp("tenants", "create", "acme"))
    result = gp("plugins", "configure", "hello", "--tenant", "acme", "--json", settings)
    assert result.exit_code == 2 and words in result.stderr, result.output
    assert plugin_rows(gp, "acme")["hello"]["settings"] == {"greeting": "hi"}


def test_set_values_that_are_not_strict_json_stay_text() -> None:
    from guidepath.core.cli.plugins_cmd import parse_value

    assert parse_value("3") == 3 and parse_value('["a"]') == ["a"]
    for raw in ("NaN", "Infinity", "9" * 5000, "[" * 100_000, "1e400"):
        assert parse_value(raw) == raw


def test_plugins_add_commands(gp: Invoke, hello_plugin: types.ModuleType) -> None:
    group = build_cli()  # a fresh root group, so the plugin's command does not leak
    assert "hello" in ok(gp("--help", group=group)).output
    assert ok(gp("hello", group=group)).output.strip() == "hello from a plugin"
    assert "hello" not in build_cli().commands


def test_plugins_list_without_plugins_or_tenant_needs_no_database(gp: Invoke, tmp_path: Path) -> None:
    ok(gp("plugins", "list"))
    assert not (tmp_path / "data" / "global.sqlite").exists()


# -- config ---------------------------------------------------------------------------


def test_config_show_redacts_secrets(gp: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    key = base64.b64encode(b"k" * 32).decode()
    monkeypatch.setenv("GUIDEPATH_MASTER_KEY", key)
    monkeypatch.setenv("GUIDEPATH_REDIS_URL", "redis://gp:redis-secret@127.0.0.1:6379/0")
    shown = ok(gp("config", "show"))
    data = json.loads(shown.stdout)
    assert data["master_key"] == "********"
    assert data["redis_url"] == "redis://gp:********@127.0.0.1:6379/0"
    assert data["mode"] == "embedded"
    assert data["data_dir"].endswith("data")
    assert key not in shown.output and "redis-secret" not in shown.output

    toml = ok(gp("config", "show", "--format", "toml"))
    assert 'master_key = "********"' in toml.stdout
    assert "tenant_pool_size = 2" in toml.stdout
    assert key not in toml.output


def test_config_show_says_where_the_relays_are(gp: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    # Embedded: the relay runs inside `guidepath run` on ports picked at start-up, so
    # there is no fixed relay address to show (there used to be a made-up one).
    shown = ok(gp("config", "show"))
    data = json.loads(shown.stdout)
    assert "relay_url" not in data and "7600" not in shown.stdout
    assert "in-process" in data["relays"] and "picked at start-up" in data["relays"]
    assert "`guidepath run`" in data["relays"] and "prints them" in data["relays"]
    toml = ok(gp("config", "show", "--format", "toml")).stdout
    assert "# relays: in-process" in toml and "relay_url" not in toml
    # With Redis, relays are `guidepath relay` processes that register themselves.
    monkeypatch.setenv("GUIDEPATH_REDIS_URL", "redis://127.0.0.1:6379/0")
    data = json.loads(ok(gp("config", "show")).stdout)
    assert "`guidepath relay` processes" in data["relays"]


def test_run_prints_the_in_process_relay_ports(gp: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `config show` promises: `guidepath run` prints the ports its relay picked."""
    import logging

    import werkzeug.serving

    served: list[Any] = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *args, **kw: served.append(args))
    ok(gp("tenants", "create", "acme"))
    hosting = logging.getLogger("guidepath.relay.hosting")
    before = (hosting.level, hosting.propagate, list(hosting.handlers), list(hosting.filters))
    result = ok(gp("run", "--log-format", "text", "--port", "8123"))
    assert served, "the server was not started"
    relay_lines = [line for line in result.stdout.splitlines() if line.startswith("Relay")]
    assert len(relay_lines) == 1, result.stdout
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", relay_lines[0])]
    assert len(ports) == 2 and all(p > 0 for p in ports) and 7600 not in ports, relay_lines
    assert "tcp 127.0.0.1:" in relay_lines[0] and "ws://127.0.0.1:" in relay_lines[0]
    assert "http://acme.localhost:8123/" in result.stdout
    assert (hosting.level, hosting.propagate, list(hosting.handlers), list(hosting.filters)) == before


def test_config_errors_are_clean(gp: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDEPATH_TENANT_POOL_SIZE", "many")
    failed(gp("config", "show"), "GUIDEPATH_TENANT_POOL_SIZE must be an integer")
    monkeypatch.delenv("GUIDEPATH_TENANT_POOL_SIZE")
    monkeypatch.setenv("GUIDEPATH_DATABASE_URL", "postgresql+psycopg://gp@127.0.0.1:1/none")
    failed(gp("tenants", "list"), "GUIDEPATH_MASTER_KEY is required")


def test_data_dir_option_overrides_the_environment(gp: Invoke, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDEPATH_DATA_DIR", str(tmp_path / "elsewhere"))
    ok(gp("tenants", "create", "acme"))
    assert (tmp_path / "data" / "global.sqlite").exists()
    assert not (tmp_path / "elsewhere").exists()


# -- db upgrade -----------------------------------------------------------------------


def test_db_upgrade_is_rerunnable(gp: Invoke, tmp_path: Path) -> None:
    first = ok(gp("db", "upgrade"))
    assert "Global database: upgraded" in first.output
    assert "No tenants." in first.output

    ok(gp("tenants", "create", "acme"))
    ok(gp("tenants", "create", "globex"))
    for _ in range(2):
        again = ok(gp("db", "upgrade"))
        assert "Global database: already current" in again.output
        assert "Upgrading tenants" in again.stderr  # the progress bar's label
        assert "0 tenants upgraded, 2 already current" in again.stdout

    # A tenant whose database is behind (here: empty) is brought to head.
    (globex,) = [t for t in tenants_json(gp) if t["slug"] == "globex"]
    folder = tmp_path / "data" / "tenants" / globex["id"]
    for path in folder.glob("tenant.sqlite*"):
        path.unlink()
    caught_up = ok(gp("db", "upgrade"))
    assert "1 tenants upgraded, 1 already current" in caught_up.stdout
    assert "0 tenants upgraded, 2 already current" in ok(gp("db", "upgrade")).stdout


# -- containers -----------------------------------------------------------------------


def test_containers_in_embedded_mode(gp: Invoke) -> None:
    table = ok(gp("containers", "list")).stdout.splitlines()
    assert table[0].split() == ["ID", "URL", "TENANTS"]
    ok(gp("tenants", "create", "acme"))
    (row,) = json.loads(ok(gp("containers", "list", "--json")).stdout)
    assert row["tenants"] == 1
    failed(gp("containers", "add", "postgresql+psycopg://gp@127.0.0.1/c1"), "server mode only")
    bad = gp("containers", "add", "mysql://gp@127.0.0.1/c1")
    assert bad.exit_code == 2 and "PostgreSQL" in bad.stderr


def test_container_url_normalization() -> None:
    from guidepath.core.cli.containers_cmd import normalize_url

    assert normalize_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgres://u@h:5433/db") == "postgresql+psycopg://u@h:5433/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


@pytest.fixture
def scratch_databases(unavailable: Callable[[str], NoReturn]):
    from guidepath.core.testing.databases import ScratchDatabases

    databases = ScratchDatabases()
    try:
        databases.create("global")
    except Exception as exc:  # noqa: BLE001 - a skip here, a failure in CI
        unavailable(f"PostgreSQL is not reachable ({exc})")
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.mark.postgres
def test_containers_and_tenants_on_postgres(gp: Invoke, scratch_databases: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    container_url = scratch_databases.create("c1")
    monkeypatch.setenv("GUIDEPATH_DATABASE_URL", scratch_databases.url("global"))
    monkeypatch.setenv("GUIDEPATH_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())

    failed(gp("tenants", "list"), "run `guidepath db upgrade` first")
    ok(gp("db", "upgrade"))
    failed(gp("tenants", "create", "acme"), "containers add")

    failed(gp("containers", "add", scratch_databases.url("global")), "that is the global database")
    failed(gp("containers", "add", scratch_databases.url("missing")), "cannot connect")
    added = ok(gp("containers", "add", container_url, "--capacity", "10"))
    assert "Added container" in added.output
    assert "already registered" in ok(gp("containers", "add", container_url)).output

    ok(gp("tenants", "create", "acme", "--admin-email", "boss@acme.example",
          "--admin-password", PASSWORD))
    ok(gp("users", "create", "--tenant", "acme", "--email", "ann@acme.example",
          "--password", PASSWORD))
    assert len(json.loads(ok(gp("users", "list", "--tenant", "acme", "--json")).stdout)) == 2
    (row,) = json.loads(ok(gp("containers", "list", "--json")).stdout)
    assert row["tenants"] == 1 and row["capacity"] == 10
    assert "0 tenants upgraded, 1 already current" in ok(gp("db", "upgrade")).stdout
    ok(gp("tenants", "delete", "acme", "--yes"))


# -- run ------------------------------------------------------------------------------


