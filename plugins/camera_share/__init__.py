"""Camera sharing: an agent sees the customer's camera through the relay.

Grants ``camera`` tickets (hook ``issue_relay_ticket``) with this plugin's limits
and turns the relay's reports of camera sessions into tenant events. In embedded
mode its worker shares the app's in-process relay. The viewer page is
``/nexus/{session_id}?kind=camera``.

Imports ``guidepath.core`` and ``guidepath.relay``; never another plugin.
"""
