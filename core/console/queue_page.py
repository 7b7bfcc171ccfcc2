"""``/queue``: the live list of waiting and active sessions.

The page is a shell; ``queue.js`` reads ``GET /api/v1/sessions?state=live&expand=…``
and keeps the list current from ``WS /ws`` events (no polling): a session event
re-reads that one session, a reconnection re-reads the list. The rows are drawn by
one function from the API's JSON, so the first paint and a live update cannot
disagree.
"""

from __future__ import annotations

from ..web.contract import page
from .access import console_page
from .blueprint import bp
from .rendering import render_page


@bp.get("/queue")
@page("The queue: waiting and active sessions, live")
@console_page()
def queue_page():
    from .access import signed_in_user

    return render_page("console/queue.html", title="Queue", page_name="queue", principal=signed_in_user())
