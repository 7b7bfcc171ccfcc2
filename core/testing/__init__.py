"""Helpers for testing guidepath — and partners' plugins — against the real kernel:
a live HTTP server, a tenant-bound client, the Tansu broker runner and the pytest
plugin (``pytest11`` entry point ``guidepath``) with its fixtures.

Imported only by tests; the product never imports this package.
"""
