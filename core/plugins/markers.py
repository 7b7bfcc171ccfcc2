"""The pluggy markers. Only ``hookimpl`` is public; the spec marker is for
``guidepath.core.hookspecs`` alone (pytest keeps its spec marker private too)."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "guidepath"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
_hookspec = pluggy.HookspecMarker(PROJECT_NAME)
