"""Remote control: an agent sees and drives the customer's screen through the relay.

The plugin grants ``remote_control`` tickets (hook ``issue_relay_ticket``), turns
the relay's reports into tenant events, hosts the browser viewer (``/nexus``) and
the recordings API, and adds the ``guidepath relay`` and ``guidepath device``
commands. In embedded mode its worker runs a relay inside the app process.

Imports ``guidepath.core`` and ``guidepath.relay``; never another plugin.
"""
