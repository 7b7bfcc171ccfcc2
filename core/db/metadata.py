"""The two table catalogues.

``global_metadata`` holds the tenant directory and the container registry: nothing
else may live in the global database. ``tenant_metadata`` holds every table of a
tenant; its tables are created without a schema name so that the same definitions
work in a PostgreSQL tenant schema (found through the role's ``search_path``) and in
an embedded tenant's own SQLite file.
"""

from __future__ import annotations

from sqlalchemy import MetaData

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

global_metadata = MetaData(naming_convention=NAMING_CONVENTION)
tenant_metadata = MetaData(naming_convention=NAMING_CONVENTION)
