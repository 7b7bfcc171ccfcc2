"""The console's static files, served with a content hash in the URL.

``asset_url("console.js")`` is ``/console/assets/console.js?v=<hash>``: a browser
may keep the file for a year, and a new release changes the URL. Hashes are
computed once per file modification time.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import abort, send_from_directory, url_for

STATIC = Path(__file__).parent / "static"
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
YEAR = 365 * 24 * 3600


@functools.lru_cache(maxsize=256)
def _digest(name: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    path = STATIC / name
    return url_for("console.asset", name=name, v=_digest(name, path.stat().st_mtime_ns))


def send_asset(name: str, versioned: bool):
    """A versioned URL (``?v=``) is cached for a year; the modules a page imports by
    plain URL (``./console.js``) are revalidated each time (ETag, 304), so every
    page shares one instance of them and still never runs a stale one."""
    path = (STATIC / name).resolve()
    if STATIC.resolve() not in path.parents or not path.is_file() or path.suffix not in TYPES:
        abort(404)
    response = send_from_directory(STATIC, name, mimetype=TYPES[path.suffix], max_age=YEAR if versioned else 0)
    if not versioned:
        response.cache_control.no_cache = True
    return response
