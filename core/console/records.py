"""What plugins contribute to the console: plain records, returned by hooks.

``console_menu`` returns :class:`ConsoleLink` records (items of the agent's or the
admin's menu); ``session_panels`` returns :class:`SessionPanel` records (a box on
a session's page: buttons that open something, and/or an ES module the page
imports and mounts). Records are frozen dataclasses so a plugin cannot change one
after another plugin read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Where a menu link goes.
SECTIONS = ("agent", "admin")


@dataclass(frozen=True)
class ConsoleLink:
    """A link in the console: a menu item, or a button on a session panel.

    ``href`` is a path on the tenant's host (``/admin/guided-paths``); ``key`` is a
    unique, stable name used in element ids and tests. ``new_tab`` opens it in a
    new tab (the remote-control viewer, say). ``order`` sorts within a section
    (lower first; the console's own items are 10, 20, 30…).
    """

    key: str
    label: str
    href: str
    section: str = "agent"
    order: int = 100
    description: str = ""
    new_tab: bool = False
    shortcut: str = ""

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"ConsoleLink.section must be one of {SECTIONS}, not {self.section!r}")
        if not self.href.startswith("/") or self.href.startswith("//"):
            raise ValueError(f"ConsoleLink.href must be a path on the tenant's host, not {self.href!r}")


@dataclass(frozen=True)
class SessionPanel:
    """A box on a session's page.

    ``links`` are rendered as buttons on the server (no script needed).
    ``module`` is the URL path of an ES module on the tenant's host; the page
    imports it and calls its exported ``mount(element, context)`` with the panel's
    ``<section>`` and ``{session, csrfToken, readOnly, socket}`` (``socket.on(type,
    callback)`` subscribes to the agent's real-time events). ``wide`` panels take
    the main column (the Guided Path runner); the others stack in the side column.
    """

    key: str
    title: str
    links: tuple[ConsoleLink, ...] = field(default_factory=tuple)
    module: str = ""
    order: int = 100
    wide: bool = False

    def __post_init__(self) -> None:
        if self.module and (not self.module.startswith("/") or self.module.startswith("//")):
            raise ValueError(f"SessionPanel.module must be a path on the tenant's host, not {self.module!r}")
