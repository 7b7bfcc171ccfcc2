"""What the reference device client reports about the machine it runs on.

Real values from :mod:`platform` and :mod:`os` where the system offers them,
``None`` where it does not: a made-up value would be worse than none in an
agent's device panel.
"""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path

from .protocol import DeviceInfo


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _read(path: str) -> str | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return text[:256] or None


def _processor() -> str | None:
    name = platform.processor() or None
    if name and name not in {"x86_64", "aarch64", "arm64", "i386"}:
        return name[:256]
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()[:256]
    except OSError:
        pass
    return (name or platform.machine() or None) and (name or platform.machine())[:256]


def collect_device_info() -> DeviceInfo:
    uname = platform.uname()
    return DeviceInfo(
        manufacturer=_read("/sys/class/dmi/id/sys_vendor"),
        brand=_read("/sys/class/dmi/id/board_vendor"),
        model=_read("/sys/class/dmi/id/product_name"),
        os_name=uname.system or None,
        os_version=uname.release or None,
        memory_bytes=_memory_bytes(),
        processor=_processor(),
        device_name=socket.gethostname()[:256] or None,
        # Readable only by root on most systems; None otherwise.
        serial_number=_read("/sys/class/dmi/id/product_serial"),
        extra={"machine": uname.machine, "python": platform.python_version(), "cpu_count": os.cpu_count()},
    )
