"""Alembic script folders: ``global/`` for the tenant directory, ``tenant/`` for every
tenant schema (or embedded tenant file). Run them with ``guidepath db upgrade``."""
