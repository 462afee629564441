"""The parliamentary rules a send obeys before it starts: no send during an election period.

From dissolution to polling day there are no Members of Parliament, and the House's rules on
the use of its resources (its dissolution guidance) say the office's newsletter and its list
of constituents must not be used then; a by-election's period is set the same way
(NEWSLETTER_DISSOLUTION and NEWSLETTER_POLLING_DAY, read by `gates.election`). A send to the list
through a relay whose start falls in the period, both days included, is refused, unless a
person overrides the rule with a reason (`send --override-rule "REASON"`), which the audit log
keeps as `send.override` when the send starts.

What the rule leaves alone, on purpose: a test copy (`--to`) goes to the office's own staff,
a rehearsal into the outbox folder and a dry run send nothing to anyone. The office prepares
its first issue after polling day with all three. They carry a note saying a real send would
be refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from newsletter import audit
from newsletter.errors import InputError
from newsletter.gates.election import uk_today
from newsletter.gates.text import ASCII_CONTROL
from newsletter.settings import Settings
from newsletter.store import Connection, transaction

OVERRIDE_ACTION = "send.override"
ELECTION_RULE = "election period"
REASON_LIMIT = 500  # characters: a reason is a sentence, not a document


@dataclass(frozen=True)
class Override:
    """A rule a person chose to break for this send, and why (recorded when the send starts)."""

    rule: str
    reason: str
    detail: str


def override_reason(raw: str | None) -> str | None:
    """`--override-rule REASON`: the reason as one line, or None when the option was not given."""
    if raw is None:
        return None
    reason = " ".join(raw.split())
    if not reason:
        raise InputError(
            "--override-rule needs a reason: who decided this send may go out in the election period, and why"
        )
    if ASCII_CONTROL.search(reason):
        raise InputError("--override-rule: the reason contains a control character")
    if len(reason) > REASON_LIMIT:
        raise InputError(f"--override-rule: the reason is {len(reason):,} characters; keep it under {REASON_LIMIT}")
    return reason


def election_rule(
    settings: Settings, *, real: bool, reason: str | None, today: dt.date | None = None
) -> tuple[Override | None, list[str]]:
    """Refuse a real send (to the list, through a relay) that starts in the election period,
    unless `reason` overrides it. Returns the override to record, and notes for the send."""
    period = settings.election_period
    day = today or uk_today()
    if period is None or not period.covers(day):
        unused = [f"--override-rule: no rule stops this send ({day.isoformat()}); nothing overridden"]
        return None, unused if reason is not None else []
    rule = (
        f"{day.isoformat()} is in the election period {period.describe()}: from dissolution to polling day "
        "House resources, this newsletter among them, must not be used"
    )
    if not real:
        return None, [f"{rule}; a send to the list through the relay would be refused"]
    if reason is None:
        raise InputError(
            f"refusing to send: {rule}",
            hint="send after polling day; or, if the office was advised this message may go out, "
            'send --override-rule "REASON" (kept in the audit log)',
        )
    return Override(ELECTION_RULE, reason, period.describe()), [f"the election-period rule is overridden: {reason}"]


def record_override(db: Connection, override: Override, staff: audit.Staff, issue: str) -> audit.Entry:
    """The `send.override` entry, in its own transaction: written as the send starts, so a send
    that a person overrode and then did not confirm leaves no entry."""
    with transaction(db):
        return audit.record(
            db,
            OVERRIDE_ACTION,
            staff=staff,
            issue=issue,
            details={"rule": override.rule, "reason": override.reason, "period": override.detail},
        )
