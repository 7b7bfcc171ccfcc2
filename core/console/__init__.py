"""The agent and admin console: the web application people use on their tenant's host.

Server-rendered pages (Jinja, ``templates/console/``) with small ES modules
(``static/``), on top of the REST API, ``WS /ws`` and the plugins — no page reads
or writes data except through the same domain functions and API the rest of the
platform uses. Plugins add menu items and session panels through the
``console_menu`` and ``session_panels`` hooks (records in :mod:`.records`) and
their own pages extend ``console/base.html``.

Must not import ``guidepath.guided_paths``, ``guidepath.plugins`` or
``guidepath.relay``: what they show in the console comes through hooks.
"""

from __future__ import annotations

from .records import ConsoleLink, SessionPanel

__all__ = ["ConsoleLink", "SessionPanel"]
