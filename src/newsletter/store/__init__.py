"""The list of record: subscribers, consent events, suppressions, the delivery journal, send
locks, the archive's web copies and the web's client limits, in one SQLite file behind small
modules (one per group of tables).

Callers open it with `open_store(project.database_path)` and write through `transaction(db)`.
May import: the core (`errors`, `fileio`, `gates`) only; the layers above call it. Schema
changes are forward migrations in `migrations.py`. Read first: `database.connect`.
"""

from newsletter.store.database import StorageError, Store, now, open_store, transaction

__all__ = ["StorageError", "Store", "now", "open_store", "transaction"]
