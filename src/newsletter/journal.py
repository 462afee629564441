"""Kept so older imports work: the journal now lives in `newsletter.store.journal`."""

from newsletter.store.database import now, transaction
from newsletter.store.journal import FAILED, PENDING, SENDING, SENT, SKIPPED, STATES, Failure, Journal, sent_issues

__all__ = ["FAILED", "PENDING", "SENDING", "SENT", "SKIPPED", "STATES", "Failure", "Journal", "now", "sent_issues",
           "transaction"]
