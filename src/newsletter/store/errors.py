"""The store's errors, kept in a module of their own so every other store module can raise them."""

from __future__ import annotations

from newsletter.errors import NewsletterError


class StorageError(NewsletterError):
    """The database cannot be opened or written (a failure while working: exit 1)."""


class SchemaError(NewsletterError):
    """The database's schema is not the one this release reads: older (run `newsletter db
    upgrade`) or newer (a newer release wrote it). Refused before any work: exit 2."""

    exit_code = 2
