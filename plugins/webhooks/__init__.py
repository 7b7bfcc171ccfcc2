"""Event subscriptions: each tenant's webhooks, delivered per the Standard Webhooks
specification (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

A built-in plugin, registered through the ``guidepath.plugins`` entry-point group
like a partner's (``webhooks = "guidepath.plugins.webhooks.plugin"``). Admins
subscribe HTTPS endpoints to event types (``/api/v1/webhooks`` and the admin
console's Webhooks page). The plugin's ``handle_event`` records one pending
delivery per matching subscription (idempotent by subscription and event id), and
its delivery worker (``register_workers``, or ``guidepath worker webhooks``) sends
due deliveries with stored retries. Design notes: ``docs/webhooks.md`` and
``docs/architecture.md``.

Imports ``guidepath.core.plugin_api`` only, and no other plugin.
"""
