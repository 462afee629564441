"""What the journal records about one issue's send, read in one go for `newsletter status`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import InputError
from newsletter.gates import cells
from newsletter.gates.text import did_you_mean
from newsletter.store import snapshots
from newsletter.store.journal import Failure, Journal


@dataclass(frozen=True)
class SendStatus:
    """The journal's record of an issue: counts per state, skip reasons, editions, runs."""

    slug: str
    path: Path
    counts: dict[str, int]
    reasons: dict[str, int]
    editions: dict[str, int]
    failures: list[Failure]
    unknown: list[str]
    runs: list[tuple[str, str, str, str | None, str | None]]
    snapshot: tuple[str, str] | None  # (taken at, sha256) of the web copy the archive publishes

    @property
    def last_real_run(self) -> tuple[str, str, str, str | None, str | None] | None:
        """The last run that was the issue's send (a test copy, `send --to`, is not)."""
        real = [run for run in self.runs if run[0] != "test"]
        return real[-1] if real else None

    @property
    def last_test_run(self) -> tuple[str, str, str, str | None, str | None] | None:
        """The last run, when it was a test copy."""
        return self.runs[-1] if self.runs and self.runs[-1][0] == "test" else None

    def failures_csv(self) -> bytes:
        """The failed recipients with the servers' replies, as a CSV safe to open in a spreadsheet."""
        return cells.csv_bytes(
            ["email", "attempts", "last_reply", "updated_at"],
            [(f.email, f.attempts, f.last_reply, f.updated_at) for f in self.failures],
        )


def issue_slug(issue: str) -> str:
    """An issue named by slug or by its YAML file: the journal keys on the slug."""
    path = Path(issue)
    return path.stem if path.suffix in (".yaml", ".yml") else issue


def read_status(issue: str, path: Path) -> SendStatus:
    """The record of `issue` in the database at `path`; one line (exit 2) when there is none."""
    slug = issue_slug(issue)

    def nothing(recorded: list[str]) -> InputError:
        return InputError(
            f"{slug}: no send of this issue is recorded in {path}{did_you_mean(slug, recorded)}",
            hint="status takes the issue's slug or YAML file, e.g. spring-2018",
        )

    if not path.exists():
        raise nothing([])
    with Journal(path) as journal:
        status = SendStatus(
            slug=slug,
            path=path,
            counts=dict(journal.counts(slug)),
            reasons=dict(journal.skipped_reasons(slug)),
            editions=dict(journal.sent_editions(slug)),
            failures=list(journal.failures(slug)),
            unknown=list(journal.unknown(slug)),
            runs=list(journal.runs(slug)),
            snapshot=snapshots.taken(journal.db, slug),
        )
        if not status.counts and not status.runs:
            raise nothing(journal.issues())
    return status


__all__ = ["SendStatus", "issue_slug", "read_status"]
