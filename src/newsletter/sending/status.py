"""What the journal records about one issue's send, read in one go for `newsletter status`.

The journal is kept per route (`store.journal.ROUTES`): what went through a relay (real mail)
and what went into the outbox folder (a rehearsal) are counted apart, so `status` can never
make a rehearsal look like the issue's send.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import InputError
from newsletter.gates import cells
from newsletter.gates.text import did_you_mean
from newsletter.store import Location, exists, snapshots
from newsletter.store.connection import shown
from newsletter.store.journal import OUTBOX, ROUTES, SMTP, Failure, Journal

Run = tuple[str, str, str, str | None, str | None]  # kind, destination, started, finished, outcome

# How `status` names each route, and what it means for the constituents.
ROUTE_NAMES = {
    SMTP: "through a relay (real mail)",
    OUTBOX: "into the outbox folder (a rehearsal: never counts as sent for a send through a relay)",
}


@dataclass(frozen=True)
class RouteStatus:
    """The journal of one route: counts per state, skip reasons, editions, failures, runs."""

    route: str
    counts: dict[str, int]
    reasons: dict[str, int]
    editions: dict[str, int]
    failures: list[Failure]
    unknown: list[str]
    runs: list[Run]

    @property
    def name(self) -> str:
        return ROUTE_NAMES.get(self.route, self.route)

    @property
    def empty(self) -> bool:
        return not self.counts and not self.runs

    @property
    def last_real_run(self) -> Run | None:
        """The last run that was the issue's send (a test copy, `send --to`, is not)."""
        real = [run for run in self.runs if run[0] != "test"]
        return real[-1] if real else None

    @property
    def last_test_run(self) -> Run | None:
        """The last run, when it was a test copy."""
        return self.runs[-1] if self.runs and self.runs[-1][0] == "test" else None


@dataclass(frozen=True)
class SendStatus:
    """The journal's record of an issue, route by route (relay first), and its snapshot."""

    slug: str
    path: Location
    routes: list[RouteStatus]
    snapshot: tuple[str, str] | None  # (taken at, sha256) of the web copy the archive publishes

    def route(self, name: str) -> RouteStatus:
        return next(r for r in self.routes if r.route == name)

    @property
    def failures(self) -> list[tuple[str, Failure]]:
        return [(r.route, f) for r in self.routes for f in r.failures]

    def failures_csv(self) -> bytes:
        """The failed recipients with the servers' replies, as a CSV safe to open in a spreadsheet."""
        return cells.csv_bytes(
            ["email", "attempts", "last_reply", "updated_at", "route"],
            [(f.email, f.attempts, f.last_reply, f.updated_at, route) for route, f in self.failures],
        )


def issue_slug(issue: str) -> str:
    """An issue named by slug or by its YAML file: the journal keys on the slug."""
    path = Path(issue)
    return path.stem if path.suffix in (".yaml", ".yml") else issue


def _route(path: Location, slug: str, route: str) -> RouteStatus:
    with Journal(path, route=route) as journal:
        return RouteStatus(
            route=route,
            counts=dict(journal.counts(slug)),
            reasons=dict(journal.skipped_reasons(slug)),
            editions=dict(journal.sent_editions(slug)),
            failures=list(journal.failures(slug)),
            unknown=list(journal.unknown(slug)),
            runs=list(journal.runs(slug)),
        )


def read_status(issue: str, path: Location) -> SendStatus:
    """The record of `issue` in the database at `path`; one line (exit 2) when there is none."""
    slug = issue_slug(issue)

    def nothing(recorded: list[str]) -> InputError:
        return InputError(
            f"{slug}: no send of this issue is recorded in {shown(path)}{did_you_mean(slug, recorded)}",
            hint="status takes the issue's slug or YAML file, e.g. spring-2018",
        )

    if not exists(path):
        raise nothing([])
    routes = [_route(path, slug, route) for route in ROUTES]
    with Journal(path) as journal:
        if all(r.empty for r in routes):
            raise nothing(journal.issues())
        snapshot = snapshots.taken(journal.db, slug)
    return SendStatus(slug=slug, path=path, routes=routes, snapshot=snapshot)


__all__ = ["ROUTE_NAMES", "RouteStatus", "SendStatus", "issue_slug", "read_status"]
