"""Real-time analytics: each tenant's sessions, Guided Path funnels and relay use.

A built-in plugin, registered through the ``guidepath.plugins`` entry-point group
like a partner's (``analytics = "guidepath.plugins.analytics.plugin"``). Its
``handle_event`` (the ETL, :mod:`.etl`) keeps per-tenant aggregate tables in the
tenant's own database, idempotently; ``/api/v1/analytics/…`` reads them (JSON or
CSV, admins); ``/admin/analytics`` is the dashboard (uPlot charts); and
``guidepath analytics rebuild --tenant SLUG`` replays the tenant's retained events
into fresh tables and swaps them in. Design notes: ``docs/analytics.md``.

Imports ``guidepath.core.plugin_api`` only, and no other plugin.
"""
