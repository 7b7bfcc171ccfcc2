"""Database plumbing: the global and tenant table metadata, engines, the per-tenant
connection pools and the Alembic migration environments.

Must not import Flask or any web module.
"""
