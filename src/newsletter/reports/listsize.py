"""How many confirmed subscribers the list had at a given time, replayed from the consent events.

The list of record keeps only each person's status today; the consent events (append-only, with
their times) say when each became subscribed and when they left, so the list at the time of a
send can be counted after the fact. A person erased on request has no events left and so counts
at no time: the report never brings back what was erased.
"""

from __future__ import annotations

import datetime as dt

from newsletter.store import Connection

# Events after which a person is a confirmed subscriber: a confirmed signup, an import or a
# staff add with consent, a re-subscription. Events after which they are not.
JOINED = frozenset({"confirmed", "imported", "added", "resubscribed"})
LEFT = frozenset({"unsubscribed", "removed", "erased"})


def parse_time(stamp: str) -> dt.datetime:
    """A stored time (ISO 8601, UTC; to the second or the millisecond) as an aware datetime;
    one written without a zone is taken as UTC."""
    parsed = dt.datetime.fromisoformat(stamp)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def confirmed_at(db: Connection, when: dt.datetime) -> int:
    """Confirmed subscribers at `when`: those whose last joining or leaving event up to then
    was a joining one. Events are ordered by their time, then by their order of writing."""
    last: dict[str, tuple[dt.datetime, int, bool]] = {}
    for event_id, email, kind, stamp in db.execute(
        "SELECT id, email, kind, at FROM consent_events WHERE kind IN (" + ", ".join("?" * len(JOINED | LEFT)) + ")",
        tuple(sorted(JOINED | LEFT)),
    ):
        at = parse_time(stamp)
        if at > when:
            continue
        key = (at, int(event_id), kind in JOINED)
        if email not in last or key[:2] > last[email][:2]:
            last[email] = key
    return sum(joined for _at, _id, joined in last.values())
