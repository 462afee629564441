"""What two-person approval adds to a send (run by hand): `.venv/bin/python benchmarks/approval_check.py`.

With NEWSLETTER_APPROVAL_ABOVE set, a send to the list through a relay counts its audience once
more and fingerprints the issue (`sending.approval.check`) after planning. This times, in one
process over the same SQLite list of N subscribers (default 200,000), `plan()` (the baseline
every send pays) and `approval.check` with a matching approval in the log, each `--runs` times
interleaved, and prints the median and range of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._machine import describe  # noqa: E402
from benchmarks.audience_scale import make_project  # noqa: E402

from newsletter import audit  # noqa: E402
from newsletter.audience.recipients import select  # noqa: E402
from newsletter.content.issue import resolve_issue_path  # noqa: E402
from newsletter.mail.compose import compose  # noqa: E402
from newsletter.sending import approval  # noqa: E402
from newsletter.sending.fingerprint import fingerprint  # noqa: E402
from newsletter.sending.plan import plan  # noqa: E402
from newsletter.settings import load_settings  # noqa: E402
from newsletter.store import transaction  # noqa: E402
from newsletter.store.journal import SMTP, Journal  # noqa: E402

APPROVER = audit.Staff("Ann", "NEWSLETTER_STAFF", "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.count)
        database = root / ".newsletter" / "newsletter.sqlite3"
        env = {"NEWSLETTER_APPROVAL_ABOVE": "10", "NEWSLETTER_STAFF": "Bob", "NEWSLETTER_JOURNAL": str(database)}
        settings = load_settings(env)
        composed = compose(resolve_issue_path("spring-2018", root), settings)
        segment = approval.segment((), (), None, composed.issue.audience)
        with Journal(database, route=SMTP) as journal:
            chosen = select(journal, database, composed.issue, None, root / "none.csv")
            found = fingerprint(composed, approval.audience_size(chosen.recipients, "spring-2018"), segment)
            with transaction(journal.db):
                audit.record(journal.db, "approve", staff=APPROVER, issue="spring-2018", details=found.details())
            timings: dict[str, list[float]] = {"plan (baseline)": [], "approval.check": []}
            for _ in range(args.runs):
                started = time.perf_counter()
                plan(journal, "spring-2018", chosen.recipients)
                timings["plan (baseline)"].append(time.perf_counter() - started)
                started = time.perf_counter()
                approved, _ = approval.check(journal.db, settings, composed, chosen.recipients, segment, refuse=True)
                timings["approval.check"].append(time.perf_counter() - started)
                assert approved is not None and approved.by == "Ann"
    print(f"{args.count:,} subscribers in the database, {args.runs} runs each, interleaved")
    for name, values in timings.items():
        print(f"{name:16} median {statistics.median(values):6.2f} s  (range {min(values):.2f} to {max(values):.2f} s)")


if __name__ == "__main__":
    main()
