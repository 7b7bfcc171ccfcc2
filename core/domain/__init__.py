"""The shared domain every tenant has: users and their logins, API keys, customers,
devices, support sessions with their state machine, plugin settings and the audit
log. Plain functions over a tenant's SQLAlchemy connection.

Must not import Flask or the web package: the CLI and background workers use it too.
"""
