"""Alembic environment for the tenant database (run through guidepath.core.db.migrate)."""

from alembic import context

from guidepath.core.db.migrate import tenant_target_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=tenant_target_metadata(),
    version_table_schema=context.config.attributes.get("version_table_schema"),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
