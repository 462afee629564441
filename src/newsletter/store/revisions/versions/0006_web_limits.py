"""The web's confirmation claims (`store/client_limits.py`): who is emailing an address right now.

Before, each `newsletter serve` process kept the addresses it was emailing in its own memory,
so two processes behind one proxy could both send a confirmation for one signup. One row per
address being emailed, keyed by the same keyed hash as the client limits (never the address),
with the time its claim lapses if the process holding it dies.
"""

from __future__ import annotations

from alembic import op

from newsletter.store.connection import Connection

revision = "0006w"
down_revision = "0005"
branch_labels = None
depends_on = None

TYPES = {"sqlite": ("BLOB", "REAL"), "postgresql": ("BYTEA", "DOUBLE PRECISION")}


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None, "the store runs migrations with its own configuration (store/schema.py)"
    db: Connection = config.attributes["store"]
    key, seconds = TYPES[db.backend]
    db.execute(f"CREATE TABLE web_claims (key {key} PRIMARY KEY, holder TEXT NOT NULL, expires {seconds} NOT NULL)")


def downgrade() -> None:
    raise NotImplementedError("the list of record only moves forward; restore a backup instead")
