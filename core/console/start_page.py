"""``/sessions/new``: start a session for a customer and invite them.

The page is a shell; ``start.js`` does the work through the REST API: it searches
customers (``GET /api/v1/customers?q=``) or creates one, opens a session assigned
to the agent (``POST /api/v1/sessions`` with ``customer_id`` and ``agent_id``; it
stays ``created``: redeeming the invite moves it to ``waiting``), creates an invite
(``POST …/invites``) and shows its code large with the join link, then waits on
``WS /ws`` for ``session.customer_joined`` (or the move to ``waiting``) to say
"Customer joined" and offer the session. A session can also start without a
customer: the person joining names themselves on the join page.
"""

from __future__ import annotations

from ..web.contract import page
from .access import console_page, signed_in_user
from .blueprint import bp
from .rendering import render_page


@bp.get("/sessions/new")
@page("Start a session: find or create the customer, invite them with a code, see them join")
@console_page()
def start_page():
    return render_page("console/start.html", title="Start a session", page_name="start",
                       principal=signed_in_user())
