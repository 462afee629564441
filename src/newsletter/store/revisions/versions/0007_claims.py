"""Claims: several workers share one send, each recipient once.

`deliveries` gets the send (`job`: the `sends` row of the run that planned it) a pending row
belongs to, and who holds it (`claimed_by`) until when (`claim_until`, in seconds since 1970 by
the database's clock: every host judges a lease by the same clock). `relay_pacing` holds the
rate, the hourly budget and a throttling pause per relay, shared by every worker.
"""

from __future__ import annotations

from alembic import op

from newsletter.store.connection import Connection

revision = "0007"
down_revision = "0006w"
branch_labels = None
depends_on = None

_STATEMENTS = {
    "sqlite": """
ALTER TABLE deliveries ADD COLUMN job INTEGER;
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claim_until REAL;
CREATE INDEX deliveries_job ON deliveries(job, state);
CREATE TABLE relay_pacing (
  relay TEXT PRIMARY KEY, next_slot REAL NOT NULL DEFAULT 0, resume_at REAL NOT NULL DEFAULT 0,
  hour_start REAL NOT NULL DEFAULT 0, hour_count INTEGER NOT NULL DEFAULT 0)
""",
    "postgresql": """
ALTER TABLE deliveries ADD COLUMN job BIGINT;
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claim_until DOUBLE PRECISION;
CREATE INDEX deliveries_job ON deliveries(job, state);
CREATE TABLE relay_pacing (
  relay TEXT PRIMARY KEY, next_slot DOUBLE PRECISION NOT NULL DEFAULT 0,
  resume_at DOUBLE PRECISION NOT NULL DEFAULT 0, hour_start DOUBLE PRECISION NOT NULL DEFAULT 0,
  hour_count INTEGER NOT NULL DEFAULT 0)
""",
}


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None, "the store runs migrations with its own configuration (store/schema.py)"
    db: Connection = config.attributes["store"]
    for statement in _STATEMENTS[db.backend].split(";"):
        db.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the list of record only moves forward; restore a backup instead")
