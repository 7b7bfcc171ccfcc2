"""Click commands for the relay process and the reference device.

They are plain importable objects (``relay_command``, ``device_command``); the
remote-control plugin registers them on the ``guidepath`` CLI, so this module
does not know about the CLI group (and ``relay`` stays free of the app).

    guidepath relay --host 0.0.0.0 --port 7600 --ws-port 7601 --public-host relay1.example.com
    guidepath device --ticket TOKEN --key KEY --relay relay1.example.com:7600
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import signal
import socket

import click

from guidepath.core.logs import configure as configure_logs
from guidepath.core.config import ConfigError, load_config
from guidepath.core.crypto import MasterKey

from .device_client import DeviceClient, print_input
from .device_info import collect_device_info
from .server import RelayServer, RelaySettings, run
from .tickets import ticket_secret

EMBEDDED_EXPLANATION = (
    "GUIDEPATH_REDIS_URL is not set, so this is embedded mode: the relay runs inside "
    "`guidepath run` (same process as the app, on free ports it picks at start-up and "
    "prints), and a separate relay process could not "
    "register itself or report to the app. Set GUIDEPATH_REDIS_URL (and "
    "GUIDEPATH_MASTER_KEY, the same as the app's) to run relays as their own processes, "
    "or pass --standalone to run one unregistered for protocol development."
)


@click.command("relay")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7600, show_default=True, help="TCP port for devices.")
@click.option("--ws-port", default=7601, show_default=True, help="WebSocket port for viewers.")
@click.option("--public-host", default=None, help="Host name clients use to reach this relay (default: --host).")
@click.option("--public-ws-url", default=None, help="Viewer URL when a proxy terminates TLS, e.g. wss://relay1.example.com/.")
@click.option("--relay-id", default=None, help="Unique id of this relay (default: HOSTNAME-PORT).")
@click.option("--standalone", is_flag=True, help="Run without Redis: no registration, reports only logged.")
def relay_command(
    host: str,
    port: int,
    ws_port: int,
    public_host: str | None,
    public_ws_url: str | None,
    relay_id: str | None,
    standalone: bool,
) -> None:
    """Run a relay: devices connect over TCP, viewers over WebSocket."""
    try:
        config = load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if config.redis_url is None and not standalone:
        raise click.UsageError(EMBEDDED_EXPLANATION)
    configure_logs()
    master_key = (
        MasterKey.from_base64(config.master_key) if config.master_key else MasterKey.load_or_create(config.master_key_path)
    )
    from guidepath.core.files import FileStore

    registry = reports = None
    if config.redis_url:
        from .registry import RedisRegistry, namespace_for
        from .reports import RedisReports

        namespace = namespace_for(master_key)
        registry = RedisRegistry.from_url(config.redis_url, prefix=namespace)
        reports = RedisReports.from_url(config.redis_url, stream=f"{namespace}:reports")
    settings = RelaySettings(
        relay_id=relay_id or f"{socket.gethostname()}-{port}",
        ticket_secret=ticket_secret(master_key),
        host=host,
        tcp_port=port,
        ws_port=ws_port,
        public_host=public_host,
        public_ws_url=public_ws_url,
        master_key=master_key,
        file_store=FileStore(config.files_dir),
        registry=registry,
        reports=reports,
    )
    server = RelayServer(settings)
    click.echo(f"relay {settings.relay_id}: devices on tcp {host}:{port}, viewers on ws {host}:{ws_port}", err=True)
    run(_serve_until_signal(server))  # uvloop when installed (the `fast` extra)


async def _serve_until_signal(server: RelayServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()


def parse_ticket(ticket: str, key: str | None) -> tuple[str, bytes]:
    """``--ticket TOKEN --key KEY`` or ``--ticket TOKEN.KEY`` (both base64url)."""
    if key is None and "." in ticket:
        ticket, key = ticket.rsplit(".", 1)
    if not key:
        raise click.BadParameter("the connection key is missing: pass --key or --ticket TOKEN.KEY", param_hint="--key")
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except (binascii.Error, ValueError):
        raise click.BadParameter("key is not base64url", param_hint="--key") from None
    if len(raw) != 32:
        raise click.BadParameter("key must be 32 bytes (base64url)", param_hint="--key")
    return ticket, raw


@click.command("device")
@click.option("--ticket", required=True, envvar="GUIDEPATH_DEVICE_TICKET", help="Device ticket token from the app.")
@click.option("--key", default=None, envvar="GUIDEPATH_DEVICE_KEY", help="The ticket's connection key (base64url).")
@click.option("--relay", "relay_address", required=True, help="Relay TCP address HOST:PORT.")
@click.option("--camera-dir", type=click.Path(exists=True, file_okay=False), default=None, help="Folder of PNG/JPEG camera images.")
@click.option("--fps", default=5.0, show_default=True, type=click.FloatRange(0.1, 120), help="Frames per second to send.")
@click.option("--duration", default=None, type=float, help="Stop after this many seconds.")
def device_command(
    ticket: str, key: str | None, relay_address: str, camera_dir: str | None, fps: float, duration: float | None
) -> None:
    """Join a session as a device: share the screen (or a test pattern) or a camera."""
    from pathlib import Path

    from .client import RelayClosed, RelayRefused

    token, raw_key = parse_ticket(ticket, key)
    host, sep, port = relay_address.rpartition(":")
    if not sep or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT", param_hint="--relay")
    client = DeviceClient(
        host, int(port), token, raw_key, fps=fps, camera_dir=Path(camera_dir) if camera_dir else None,
        on_input=print_input, on_clipboard=lambda text: click.echo(f"clipboard: {text!r}"),
        refresh_info=collect_device_info,  # a refresh reads the machine again (memory, OS…)
    )
    try:
        asyncio.run(client.run(duration=duration))
    except RelayRefused as exc:
        raise click.ClickException(f"the relay refused this device ({exc.code}): {exc.reason}") from None
    except RelayClosed as exc:
        click.echo(f"session ended ({exc.code}): {exc.reason}", err=True)
    except (ConnectionError, OSError) as exc:
        raise click.ClickException(f"cannot reach the relay at {relay_address}: {exc}") from None
    except KeyboardInterrupt:
        pass
    click.echo(f"sent {client.sent} frames", err=True)
