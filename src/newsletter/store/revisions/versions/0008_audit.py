"""The audit log: who did what, when, from which host, as an append-only hash chain.

One row per staff action (`newsletter.audit.record`). `id` is given by the writer (the previous
id + 1, never a sequence), so a deleted row leaves a gap; `prev_hash` is unique, so two writers
can never chain onto the same entry (a fork) even if one slipped past the write lock. `details`
is canonical JSON text, hashed exactly as stored.
"""

from __future__ import annotations

from alembic import op

from newsletter.store.connection import Connection

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = {"sqlite": "INTEGER", "postgresql": "BIGINT"}


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None, "the store runs migrations with its own configuration (store/schema.py)"
    db: Connection = config.attributes["store"]
    db.execute(
        f"CREATE TABLE audit_log (id {_ID[db.backend]} PRIMARY KEY, at TEXT NOT NULL, staff TEXT NOT NULL, "
        "source TEXT NOT NULL, host TEXT NOT NULL, action TEXT NOT NULL, issue TEXT, details TEXT NOT NULL, "
        "prev_hash TEXT NOT NULL UNIQUE, hash TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX audit_log_issue ON audit_log(issue)")


def downgrade() -> None:
    raise NotImplementedError("the list of record only moves forward; restore a backup instead")
