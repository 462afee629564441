"""Alembic's entry point: migrations run on the connection the store hands over, inside the
transaction the store has already opened (so they commit or roll back with the version stamp)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
