"""Kept so older imports work: the suppression list now lives in `newsletter.store.suppressions`."""

from newsletter.store.suppressions import *  # noqa: F403
from newsletter.store.suppressions import StorageError as StorageError
