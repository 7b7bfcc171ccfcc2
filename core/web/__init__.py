"""The web application: Flask app factory, tenant resolution from the host name,
authentication (cookie sessions with CSRF, API keys), JSON errors, the REST API,
the agents' WebSocket and the OpenAPI document.

Must not import plugins, guided paths or the relay; they add routes through the
``register_routes`` hook.
"""
