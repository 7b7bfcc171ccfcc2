"""Throw-away PostgreSQL databases for a test run (a global one and containers)."""

from __future__ import annotations

import secrets

from sqlalchemy import text
from sqlalchemy.engine import make_url

from ..db.engines import make_admin_engine

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class ScratchDatabases:
    """Creates ``{prefix}_{name}`` databases and drops them (and leftover tenant roles)."""

    def __init__(self, admin_url: str = DEFAULT_ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.prefix = "gptest_" + secrets.token_hex(4)
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=f"{self.prefix}_{name}").render_as_string(hide_password=False)

    def create(self, name: str) -> str:
        database = f"{self.prefix}_{name}"
        engine = make_admin_engine(self.admin_url)
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
        finally:
            engine.dispose()
        self.created.append(database)
        return self.url(name)

    def drop_all(self) -> None:
        engine = make_admin_engine(self.admin_url)
        try:
            with engine.connect() as conn:
                roles = set()
                for database in self.created:
                    rows = conn.execute(text(
                        "SELECT r.rolname FROM pg_roles r WHERE r.rolname LIKE 'gp\\_t%' "
                        "AND has_database_privilege(r.rolname, :db, 'CONNECT')"
                    ), {"db": database}).all()
                    roles.update(r[0] for r in rows)
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                for role in roles:
                    conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        finally:
            engine.dispose()
