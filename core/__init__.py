"""guidepath's kernel: config, tenancy, databases, files, cache, events, crypto,
the plugin manager, the web app, auth, the CLI and the shared domain.

``guidepath.core`` must never import ``guidepath.plugins``, ``guidepath.guided_paths``
or ``guidepath.relay``: it finds them through the ``guidepath.plugins`` entry-point
group, exactly as it finds a partner's plugin.
"""

__version__ = "0.1.0"
