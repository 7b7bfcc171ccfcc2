"""The admin console: ``/admin/users``, ``/admin/api-keys``, ``/admin/plugins``, ``/admin/audit``.

One module per screen, each a page view on the console blueprint (``bp``) behind
``console_page("admin")`` (an agent gets the HTML 403 page). The pages are shells:
their scripts (``static/admin-*.js``) read and change everything through the
public REST API (``/api/v1/users``, ``/api-keys``, ``/plugins``, ``/audit-log``)
with the signed-in admin's cookie and CSRF token, so the console can do nothing an
admin's API client could not, and every change is audited by the API. A view adds
only what the API does not say and a screen needs (which users are locked out,
names for the audit log's actors); never a secret.

The plugin settings form is generated from each plugin's JSON Schema by
``static/schema-form.js``, a module of its own with pure functions (schema and
value to DOM, DOM back to a value) so it can be tested on its own.
"""

from __future__ import annotations

from . import api_keys, audit, canned, plugins, users  # noqa: F401 - routes on the console blueprint
