"""The schema before Alembic: five numbered SQLite migrations, `PRAGMA user_version` the last applied.

Kept as they were, for two jobs: bringing a SQLite file made by an earlier release up to version 5
(the Alembic baseline, `revisions/versions/0005_baseline.py`, adopts it there), and creating a
new SQLite file with exactly the schema those files have. Migration 1 is the schema of the
release before the project database (the journal and the suppression list), written with IF NOT
EXISTS so that such a file is adopted as it is. PostgreSQL starts at the baseline's own DDL.
"""

from __future__ import annotations

from newsletter.store.connection import Connection

_V1 = """
CREATE TABLE IF NOT EXISTS deliveries (
  issue TEXT NOT NULL, email TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_reply TEXT, message_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (issue, email));
CREATE INDEX IF NOT EXISTS deliveries_message_id ON deliveries(message_id);
CREATE TABLE IF NOT EXISTS sends (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  issue TEXT NOT NULL, kind TEXT NOT NULL, destination TEXT NOT NULL,
  recipients TEXT, started_at TEXT NOT NULL, finished_at TEXT, outcome TEXT);
CREATE TABLE IF NOT EXISTS suppressions (
  email TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  source TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bounce_events (
  event_key TEXT NOT NULL,
  email TEXT NOT NULL,
  kind TEXT NOT NULL,
  issue TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  cleared INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  PRIMARY KEY (event_key, email));
CREATE INDEX IF NOT EXISTS bounce_events_email ON bounce_events(email);
"""

# The list of record, consent evidence, erased people's keyed hashes, the send lock, editions.
_V2 = """
ALTER TABLE deliveries ADD COLUMN edition TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_email ON deliveries(email);
CREATE TABLE subscribers (
  email TEXT PRIMARY KEY,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  ward TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('pending', 'subscribed', 'unsubscribed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  consented_at TEXT,
  confirmation_sent_at TEXT);
CREATE INDEX subscribers_status ON subscribers(status, email);
CREATE TABLE consent_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL,
  kind TEXT NOT NULL,
  at TEXT NOT NULL,
  source TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  wording TEXT NOT NULL DEFAULT '',
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL DEFAULT '');
CREATE INDEX consent_events_email ON consent_events(email, id);
CREATE TABLE suppressed_hashes (
  hash TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('erasure_key', lower(hex(randomblob(32))));
CREATE TABLE send_locks (
  issue TEXT PRIMARY KEY,
  host TEXT,
  pid INTEGER,
  started_at TEXT,
  lease_until TEXT,
  token TEXT);
"""


# What each issue's first real send sent, as the archive of record shows it (store/snapshots.py):
# the web copy of the edition for everyone, and one row per ward edition.
_V3 = """
CREATE TABLE issue_snapshots (
  issue TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  preheader TEXT NOT NULL,
  issue_date TEXT NOT NULL,
  date_text TEXT NOT NULL,
  html TEXT NOT NULL,
  text TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  taken_at TEXT NOT NULL);
CREATE TABLE issue_snapshot_editions (
  issue TEXT NOT NULL REFERENCES issue_snapshots(issue) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  stem TEXT NOT NULL,
  label TEXT NOT NULL,
  html TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (issue, position));
"""


# The per-client signup limit of `newsletter serve` (store/client_limits.py): one row per counted
# request, the client only as a keyed hash under a key of its own; rows older than the window are
# pruned, and the table is capped by row count.
_V4 = """
CREATE TABLE client_limits (
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  at REAL NOT NULL);
CREATE INDEX client_limits_key ON client_limits(key, at);
CREATE INDEX client_limits_at ON client_limits(at);
INSERT OR IGNORE INTO meta (key, value) VALUES ('client_limit_key', lower(hex(randomblob(32))));
"""


# Each delivery and run records its route: `smtp` (through a relay: real mail) or `outbox` (files
# in a folder: a rehearsal). A rehearsal never counts as sent for a send through a relay, so the
# journal is kept per route, and a recipient has one row per issue and route. Rows written before
# are `outbox` when every recorded send of their issue went to the outbox (its runs say "the
# outbox ..."), else `smtp`: unsure means real, so nobody is sent an issue twice.
_V5 = """
ALTER TABLE sends ADD COLUMN route TEXT NOT NULL DEFAULT 'smtp';
UPDATE sends SET route = 'outbox' WHERE destination LIKE 'the outbox %';
CREATE TABLE deliveries_by_route (
  issue TEXT NOT NULL, route TEXT NOT NULL, email TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_reply TEXT, message_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  edition TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (issue, route, email));
INSERT INTO deliveries_by_route
  (issue, route, email, state, reason, attempts, last_reply, message_id, created_at, updated_at, edition)
SELECT d.issue,
  CASE WHEN EXISTS (SELECT 1 FROM sends r WHERE r.issue = d.issue AND r.kind = 'send')
        AND NOT EXISTS (SELECT 1 FROM sends r WHERE r.issue = d.issue AND r.kind = 'send' AND r.route <> 'outbox')
       THEN 'outbox' ELSE 'smtp' END,
  d.email, d.state, d.reason, d.attempts, d.last_reply, d.message_id, d.created_at, d.updated_at, d.edition
FROM deliveries d;
DROP TABLE deliveries;
ALTER TABLE deliveries_by_route RENAME TO deliveries;
CREATE INDEX deliveries_message_id ON deliveries(message_id);
CREATE INDEX deliveries_email ON deliveries(email);
"""


def _apply(db: Connection, sql: str) -> None:
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


MIGRATIONS = (_V1, _V2, _V3, _V4, _V5)
VERSION = len(MIGRATIONS)


def version(db: Connection) -> int:
    return int(db.execute("PRAGMA user_version").scalar_one())


def holds_tables(db: Connection) -> bool:
    """True when the file holds any table of an earlier release (or of this one)."""
    return int(db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").scalar_one()) > 0


def migrate(db: Connection) -> None:
    """Apply every legacy migration newer than the file, inside the caller's transaction."""
    current = version(db)
    for number in range(current, VERSION):
        _apply(db, MIGRATIONS[number])
    db.execute(f"PRAGMA user_version = {VERSION}")
