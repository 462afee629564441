"""The audit log: who did what, when and from which host, kept so that a changed record shows.

Every staff action that matters after the fact (a send started, finished or refused, a test
send, an import, an export, an erasure, an edit, a suppression change, a change of the settings
that shape what is sent) appends one entry through `record`, inside the action's own write
transaction. Entries are hash-chained (`log.py`); `newsletter log --verify` walks the chain.
Identity (`identity.py`) is NEWSLETTER_STAFF, else the OS user, said so. Layer: directly above
`store`; may import store and the core (settings, project, errors, gates, fileio) only.
"""

from newsletter.audit.identity import Staff, current
from newsletter.audit.log import Broken, Entry, entries, record, verify

__all__ = ["Broken", "Entry", "Staff", "current", "entries", "record", "verify"]
