"""``/join`` and ``/join/{code}``: where a customer joins a session with an invite code.

Public (no account): ``join.js`` redeems the code (``POST /api/v1/invites/redeem``,
with the name the customer gives), keeps the customer token in ``sessionStorage``
(a reload resumes, closing the tab forgets it), shows the queue position and the
estimated wait (``GET …/queue``, polled every few seconds: customers have no
socket yet) and the chat with the agent (``GET/POST …/messages`` with the token,
polled every 2 s). The code in the URL is only a convenience: it is never sent
anywhere but the redeem call.
"""

from __future__ import annotations

import re

from ..web.contract import page
from .blueprint import bp
from .rendering import render_page

#: What a code in the URL may look like before the page pre-fills it (the API decides).
_CODE = re.compile(r"^[0-9A-Za-z-]{1,20}$")


@bp.get("/join")
@page("Join a support session with an invite code (for customers)")
def join_form_page():
    return _join("")


@bp.get("/join/<code>")
@page("Join a support session with the code in the link (for customers)")
def join_page(code: str):
    return _join(code if _CODE.match(code) else "")


def _join(code: str):
    return render_page("console/join.html", title="Join your support session", page_name="join", principal=None,
                       page_context={"code": code.upper()}, code=code.upper())
