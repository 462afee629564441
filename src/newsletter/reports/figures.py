"""The figures of `newsletter report`: every send, and one issue's figures per ward edition.

Everything is read from what the office keeps anyway: the journal (`deliveries`, `sends`), the
bounce intake (`bounce_events`: DSNs and ARF complaints matched to the issue by Message-ID),
the consent events and suppressions (unsubscribes, from the web page, the one-click header, a
mail to the unsubscribe address or the CLI). No open or click tracking exists to count.

The journal is kept per route (`store.journal.ROUTES`): a send through a relay is real mail, a
send into the outbox folder a rehearsal. The list of sends shows both, named; an issue's figures
are those of its send through a relay, or of its rehearsal when it never went through one.
Nothing here writes: a database that is not there is read as empty, never created.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from newsletter.audience.dsn import COMPLAINT, HARD, SOFT
from newsletter.errors import InputError
from newsletter.gates.text import did_you_mean
from newsletter.reports.listsize import confirmed_at, parse_time
from newsletter.sending.status import issue_slug
from newsletter.store import Connection, Location, connect, exists
from newsletter.store.connection import shown
from newsletter.store.journal import OUTBOX, SMTP

WINDOWS = (7, 30)  # days after the send in which an unsubscribe is counted against it
# A relay's permanent refusal as the journal keeps it ("relay: 550 5.1.1 ..."): a hard bounce at
# the time of sending. Any other failure (4xx with the retries used up, a lost connection) is a
# deferral: the address may well work next time.
PERMANENT = re.compile(r"(?:^|: )5\d\d(?:[\s-]|$)")
EVERYONE = "everyone"
# How a route is named for a person (the text table, the page); CSV and JSON keep the route's own name.
ROUTE_LABELS = {SMTP: "relay (real mail)", OUTBOX: "outbox (rehearsal)"}
SEND_COLUMNS = ("date", "issue", "route", "audience", "delivered", "failed", "unknown", "status")
ISSUE_COLUMNS = (
    "edition",
    "recipients",
    "delivered",
    "deferred",
    "hard_bounces",
    "soft_bounces",
    "complaints",
    "unsubscribed_7_days",
    "unsubscribed_30_days",
    "unknown",
)


@dataclass(frozen=True, slots=True)
class SendRow:
    """One send of one issue by one route, as the journal records it."""

    date: str  # when its first run started (UTC, to the minute)
    issue: str
    route: str  # store.journal.SMTP (real mail) or OUTBOX (a rehearsal)
    audience: int  # recipients it was for (skipped ones not counted)
    delivered: int
    failed: int
    unknown: int
    status: str  # the last run's outcome, and what is still pending

    def row(self) -> dict[str, str]:
        return {c: str(getattr(self, c)) for c in SEND_COLUMNS}


@dataclass(slots=True)
class EditionFigures:
    """One ward edition's figures (or the issue's total); each count is of distinct addresses."""

    edition: str
    recipients: int = 0
    delivered: int = 0
    deferred: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    unsubscribed_7_days: int = 0
    unsubscribed_30_days: int = 0
    unknown: int = 0

    def row(self) -> dict[str, str]:
        return {c: str(getattr(self, c)) for c in ISSUE_COLUMNS}


@dataclass(frozen=True)
class IssueFigures:
    """One issue's report: per edition, the total, unsubscribes per day, the list's growth."""

    slug: str
    route: str
    sent_at: str
    editions: list[EditionFigures]
    total: EditionFigures
    unsubscribes_by_day: list[int]  # day 0 (the day of the send) to day 29
    subscribers: int  # confirmed subscribers on the list as the send started
    previous: tuple[str, str, int] | None = None  # (issue, sent at, confirmed subscribers then)

    @property
    def growth(self) -> int | None:
        return None if self.previous is None else self.subscribers - self.previous[2]


@dataclass
class _Send:
    issue: str
    route: str
    started: str = ""
    outcome: str | None = None
    finished: bool = True
    states: dict[str, int] = field(default_factory=dict)


def _sends(db: Connection) -> list[_Send]:
    """Every (issue, route) with recipients or a run that was not a test copy, oldest first."""
    found: dict[tuple[str, str], _Send] = {}
    for issue, route, started, finished, outcome in db.execute(
        "SELECT issue, route, started_at, finished_at, outcome FROM sends WHERE kind <> 'test' ORDER BY id"
    ):
        send = found.setdefault((issue, route), _Send(issue, route, started))
        send.outcome, send.finished = outcome, finished is not None
    for issue, route, state, count, first in db.execute(
        "SELECT issue, route, state, count(*), min(created_at) FROM deliveries GROUP BY issue, route, state"
    ):
        send = found.setdefault((issue, route), _Send(issue, route, first))
        send.states[state] = int(count)
        send.started = min(send.started, first, key=parse_time) if send.started else first
    return sorted(found.values(), key=lambda s: (parse_time(s.started), s.issue, s.route))


def _status(send: _Send) -> str:
    outcome = (send.outcome or "").split(":")[0] if send.finished else "did not finish"
    pending = send.states.get("pending", 0)
    return ", ".join(filter(None, [outcome, f"{pending} pending" if pending else ""])) or "not started"


def _minute(stamp: str) -> str:
    return parse_time(stamp).strftime("%Y-%m-%d %H:%M") if stamp else ""


def send_rows(location: Location) -> list[SendRow]:
    """Every send recorded in the database at `location`, oldest first (none if there is none)."""
    if not exists(location):
        return []
    with connect(location) as db:
        sends = _sends(db)
    return [
        SendRow(
            date=_minute(s.started),
            issue=s.issue,
            route=s.route,
            audience=sum(n for state, n in s.states.items() if state != "skipped"),
            delivered=s.states.get("sent", 0),
            failed=s.states.get("failed", 0),
            unknown=s.states.get("sending", 0),
            status=_status(s),
        )
        for s in sends
    ]


def issue_figures(location: Location, issue: str) -> IssueFigures:
    """The figures of `issue` (a slug or its YAML file); one line, exit 2, if it was never sent."""
    slug = issue_slug(issue)
    if not exists(location):
        raise _never_sent(slug, location, [])
    with connect(location) as db:
        sends = _sends(db)
        mine = {s.route: s for s in sends if s.issue == slug}
        if not mine:
            raise _never_sent(slug, location, [s.issue for s in sends])
        send = mine.get(SMTP) or mine[OUTBOX]
        previous = _previous(sends, send)
        return _figures(db, send, previous)


def _never_sent(slug: str, location: Location, recorded: Iterable[str]) -> InputError:
    return InputError(
        f"{slug}: no send of this issue is recorded in {shown(location)}{did_you_mean(slug, recorded)}",
        hint="report takes the issue's slug or YAML file, e.g. spring-2018; `newsletter report` lists every send",
    )


def _previous(sends: list[_Send], send: _Send) -> _Send | None:
    """The last other issue sent by the same route before this one."""
    earlier = [
        s
        for s in sends
        if s.route == send.route and s.issue != send.issue and parse_time(s.started) < parse_time(send.started)
    ]
    return earlier[-1] if earlier else None


def _figures(db: Connection, send: _Send, previous: _Send | None) -> IssueFigures:
    start = parse_time(send.started)
    edition_of: dict[str, str] = {}
    per: dict[str, EditionFigures] = {}
    rows = db.execute(
        "SELECT email, state, coalesce(edition, ''), coalesce(last_reply, '') FROM deliveries "
        "WHERE issue = ? AND route = ? AND state <> 'skipped'",
        (send.issue, send.route),
    )
    hard: set[str] = set()
    deferred: set[str] = set()
    delivered: set[str] = set()
    for email, state, edition, reply in rows:
        edition_of[email] = edition
        figures = per.setdefault(edition, EditionFigures(edition_label(edition)))
        figures.recipients += 1
        if state == "sent":
            delivered.add(email)
        elif state == "sending":
            figures.unknown += 1
        elif state == "failed" and PERMANENT.search(reply):
            hard.add(email)
        elif state in ("failed", "pending"):
            deferred.add(email)
    found: dict[str, set[str]] = defaultdict(set)
    for email, kind in db.execute("SELECT DISTINCT email, kind FROM bounce_events WHERE issue = ?", (send.issue,)):
        if email in edition_of:
            found[kind].add(email)
    hard |= found[HARD]
    soft = found[SOFT] - hard
    unsubscribed = _unsubscribes(db, delivered, start)
    counted = {
        "delivered": delivered,
        "deferred": deferred - hard,
        "hard_bounces": hard,
        "soft_bounces": soft,
        "complaints": found[COMPLAINT],
        "unsubscribed_7_days": {e for e, days in unsubscribed.items() if days < WINDOWS[0]},
        "unsubscribed_30_days": {e for e, days in unsubscribed.items() if days < WINDOWS[1]},
    }
    for name, emails in counted.items():
        for email in emails:
            figures = per[edition_of[email]]
            setattr(figures, name, getattr(figures, name) + 1)
    editions = sorted(per.values(), key=lambda f: (f.edition != EVERYONE, f.edition))
    by_day = [0] * WINDOWS[1]
    for days in unsubscribed.values():
        if days < WINDOWS[1]:
            by_day[int(days)] += 1
    return IssueFigures(
        slug=send.issue,
        route=send.route,
        sent_at=_minute(send.started),
        editions=editions,
        total=_total(editions),
        unsubscribes_by_day=by_day,
        subscribers=confirmed_at(db, start),
        previous=None
        if previous is None
        else (previous.issue, _minute(previous.started), confirmed_at(db, parse_time(previous.started))),
    )


def _unsubscribes(db: Connection, reached: set[str], start: dt.datetime) -> dict[str, float]:
    """Address -> days after the send of its first unsubscribe since, for those the issue reached.
    An unsubscribe is a consent event (web page, one-click, CLI) or a suppression for it (a mail
    to the unsubscribe address records only the suppression); the earliest counts once."""
    first: dict[str, dt.datetime] = {}
    # Suppressions are stamped to the second: one made in the send's first second is after it.
    floor = start.replace(microsecond=0)
    rows = [
        *db.execute("SELECT email, at FROM consent_events WHERE kind = 'unsubscribed'"),
        *db.execute("SELECT email, created_at FROM suppressions WHERE reason = 'unsubscribed'"),
    ]
    for email, stamp in rows:
        at = parse_time(stamp)
        if email in reached and at >= floor and (email not in first or at < first[email]):
            first[email] = at
    return {email: max(0.0, (at - start).total_seconds() / 86400) for email, at in first.items()}


def _total(editions: list[EditionFigures]) -> EditionFigures:
    total = EditionFigures("all editions")
    for figures in editions:
        for name in ISSUE_COLUMNS[1:]:
            setattr(total, name, getattr(total, name) + getattr(figures, name))
    return total


def edition_label(key: str) -> str:
    """How a ward edition is named in the report: its key, or "everyone" for the common one."""
    return key or EVERYONE
