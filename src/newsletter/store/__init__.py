"""The project database: subscribers, consent events, suppressions, the delivery journal and
the send lock, in one SQLite file behind a few small modules (one per group of tables).

Callers open it with `open_store(project.database_path)` and write through `transaction(db)`.
"""

from newsletter.store.database import StorageError, Store, now, open_store, transaction

__all__ = ["StorageError", "Store", "now", "open_store", "transaction"]
