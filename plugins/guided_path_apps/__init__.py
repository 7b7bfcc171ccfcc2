"""Guided Path Apps: each tenant's allowlist of external apps that ``app`` steps embed.

A built-in plugin, registered through the ``guidepath.plugins`` entry-point group
like a partner's (``guided_path_apps = "guidepath.plugins.guided_path_apps.plugin"``).
Admins register apps (``/api/v1/guided-path-apps``); the plugin answers the
``list_guided_path_apps`` hook, through which the Guided Paths plugin validates
``app`` steps at publish time and at run time, and it serves the page that shows a
run's current ``app`` step in a sandboxed iframe (``/guided-path-apps/runs/{id}``).

Imports ``guidepath.core`` only: never ``guidepath.guided_paths`` (another plugin)
nor any other plugin. It talks to Guided Paths over the hook and the public HTTP API.
"""
