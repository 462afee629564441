"""What the archive of record costs and saves, measured in the same run.

- `newsletter archive` over N sent issues (copies of the example issues, recorded as sent in
  a real database), the whole CLI in a subprocess: once with no snapshots (every issue
  re-rendered, as for sends by the release before snapshots), once from the snapshots.
- The snapshot at the start of a send (`keep_snapshot`: the web copy of every edition, its
  hash, one INSERT; then a resumed run's compare), in-process, against `compose()` of the
  same issue, which every send start already pays; and the whole `newsletter send` of the
  issue to the outbox for a 10-person list, which pays both.

    .venv/bin/python benchmarks/archive_snapshots.py [--issues 30] [--database URL_OR_PATH]

`--database` names the project's database (default: a SQLite file in the throwaway project);
a PostgreSQL URL must name an empty database, which the project's `.env` then names. The
snapshot at send start is measured on a second database: a SQLite file beside the project, or,
on PostgreSQL, the same database once the archive's snapshot of that issue is deleted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe
from audience_scale import database as project_database
from newsletter.content.render import Renderer
from newsletter.mail.compose import compose
from newsletter.mail.webcopy import web_copy
from newsletter.sending.run import keep_snapshot
from newsletter.settings import load_settings
from newsletter.store import Location, connect, open_store, snapshots, transaction
from newsletter.store.journal import SENT, Journal
from publish import cli, make_project

WARDS = ("Heatons North", "Heatons South")  # spring-2016's ward edition


def send_database(project: Path, location: Location, issue: str) -> Location:
    """Where the send-start snapshot is measured: a fresh SQLite file, or (a server) the same
    database without the archive's snapshot of `issue`, so the send takes the first one."""
    if not isinstance(location, str):
        return project / "send.sqlite3"
    with connect(location) as db, transaction(db):
        db.execute("DELETE FROM issue_snapshot_editions WHERE issue = ?", (issue,))
        db.execute("DELETE FROM issue_snapshots WHERE issue = ?", (issue,))
    return location


def record_sent(database: Location, slugs: list[str]) -> None:
    with Journal(database) as journal:
        for slug in slugs:
            journal.prepare(slug, ["reader@example.org"], [])
            journal.mark_sending(slug, "reader@example.org", f"<{slug}@example.org>")
            journal.settle(slug, "reader@example.org", SENT, "250 ok")


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=30)
    parser.add_argument("--database", help="the project's database: a SQLite path or a PostgreSQL URL")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        make_project(project, args.issues)
        paths = sorted((project / "issues").glob("*.yaml"))
        settings = load_settings({})
        location = project_database(project, args.database)
        record_sent(location, [p.stem for p in paths])
        startup = min(cli(project, "--version") for _ in range(3))
        rerendered = cli(project, "archive", "--out", "rerendered")
        renderer = Renderer(project / "templates")
        with open_store(location) as store:
            for path in paths:
                snapshots.keep(store.db, web_copy(compose(path, settings, renderer)), "2026-11-23T00:00:00+00:00")
        kept = cli(project, "archive", "--out", "kept")
        for name in ("index.html", "feed.xml"):
            assert (project / "kept" / name).read_bytes() == (project / "rerendered" / name).read_bytes(), name
        print(f"CLI start-up alone (newsletter --version, best of 3): {startup:.2f} s")
        print(f"archive of {len(paths)} sent issues, whole CLI, no snapshots (re-rendered): {rerendered:6.2f} s")
        print(f"  the same from snapshots:                                  {kept:6.2f} s")
        print(
            f"  ratio re-rendered / snapshots: {rerendered / kept:.2f}x (start-up, measured apart, is most of "
            "the snapshot build)"
        )

        issue = project / "issues" / "spring-2016.yaml"  # the example with a ward edition
        composing = best(5, lambda: compose(issue, settings, renderer))
        composed = compose(issue, settings, renderer)
        with Journal(send_database(project, location, issue.stem)) as journal:
            started = time.perf_counter()
            keep_snapshot(composed, journal)
            first = time.perf_counter() - started
            resumed = best(5, lambda: keep_snapshot(composed, journal))
        print(
            f"snapshot at send start, spring-2016 (2 editions): first {first * 1000:.1f} ms, "
            f"a resumed run's compare {resumed * 1000:.1f} ms (best of 5)"
        )
        print(f"  baseline compose() of the same issue:   {composing * 1000:.1f} ms (best of 5)")
        print(f"  ratio snapshot / compose: first {first / composing:.2f}x, resumed {resumed / composing:.2f}x")
        csv = project / "ten.csv"
        csv.write_text(
            "email,first_name,ward,consented_at\n"  # the issue's ward edition must match somebody
            + "".join(f"reader{n}@example.org,Reader,{WARDS[n % 2]},2018-01-01\n" for n in range(10))
        )
        whole = cli(project, "send", "spring-2016", "--subscribers", "ten.csv", "--yes")
        print(
            f"  whole `newsletter send spring-2016` to the outbox, 10 recipients: {whole:.2f} s "
            f"(the first snapshot is {first / whole * 100:.1f}% of it)"
        )


if __name__ == "__main__":
    main()
