"""Audience at scale (run by hand, not by pytest): `.venv/bin/python benchmarks/audience_scale.py`.

A dry run of an example issue (`--issue`, default spring-2018) over N subscribers (default
1,000,000), end to end through the CLI in a fresh process each: `newsletter send ISSUE
--dry-run` reading the list from the project database (paged, addresses validated once at
import), beside today's one-off CSV path (`--subscribers big.csv`: every address validated and
every subscriber held in memory) in the same run, over the same people. Prints wall time,
recipients a second and peak RSS.

With `--real`, then the real thing from the database: `newsletter send ISSUE --yes` to
Postfix's `smtp-sink` on 127.0.0.1 (4 connections), and the same command again, which must
send nobody a second copy; each with its wall time and peak RSS.

`--database URL_OR_PATH`: the project's database (default: the project's own SQLite file); a
PostgreSQL URL must name an empty database, which the project's `.env` then names.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._machine import describe  # noqa: E402
from benchmarks.send_throughput import ENV, smtp_sink  # noqa: E402

from newsletter.store import Location, connect, open_store, transaction  # noqa: E402

DATABASE = Path(".newsletter") / "newsletter.sqlite3"

WARDS = [
    "Heatons North",
    "Heatons South",
    "Reddish North",
    "Reddish South",
    "Edgeley and Cheadle Heath",
    "Brinnington and Central",
    "Manor",
    "Davenport and Cale Green",
]
TAGS = ["newsletter", "newsletter;schools", "newsletter;events", "newsletter;casework", "newsletter;housing"]


def people(count: int) -> list[tuple[str, str, str, str, str, str]]:
    return [
        (
            f"reader{i:07d}@example.org",
            f"Reader{i}",
            "Example",
            WARDS[i % len(WARDS)],
            TAGS[i % len(TAGS)],
            f"2018-{1 + i % 12:02d}-{1 + i % 28:02d}",
        )
        for i in range(count)
    ]


def database(root: Path, named: str | None) -> Location:
    """The project's database: its default SQLite file, or the file or URL its `.env` names."""
    if named is None:
        return root / DATABASE
    location: Location = named if "://" in named else Path(named).resolve()
    (root / ".env").write_text(f"NEWSLETTER_DATABASE={location}\n", encoding="utf-8")
    return location


def make_project(root: Path, count: int, location: Location | None = None) -> None:
    location = root / DATABASE if location is None else location
    for name in ("issues", "articles", "templates", "images"):
        shutil.copytree(REPO / name, root / name)
    rows = people(count)
    with (root / "big.csv").open("w", encoding="utf-8") as out:
        out.write("email,first_name,last_name,ward,tags,consented_at\n")
        out.writelines(",".join(row) + "\n" for row in rows)
    load_list(location, rows)


def load_list(location: Location, rows: list[tuple[str, str, str, str, str, str]]) -> None:
    """`rows` (from `people`) as the subscribed list at `location`, through the store's own
    interface in one transaction (`executemany` hands the driver a chunk at a time), then
    settled: SQLite's WAL checkpointed, PostgreSQL's statistics taken, so a run starts level."""
    with open_store(location) as store, transaction(store.db):
        store.db.executemany(
            "INSERT INTO subscribers (email, first_name, last_name, ward, tags, status, created_at, updated_at, "
            "consented_at) VALUES (?, ?, ?, ?, ?, 'subscribed', '2018-01-01', '2018-01-01', ?)",
            rows,
        )
        store.db.execute("INSERT INTO consent_events (email, kind, at, source) VALUES ('', 'benchmark', '', '')")
    with connect(location) as db:
        assert db.execute("SELECT count(*) FROM subscribers").scalar_one() == len(rows)
        if db.backend == "sqlite":
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the dry run starts from a settled file
        else:
            db.execute("VACUUM ANALYZE subscribers")


def run(
    root: Path, issue: str, *extra: str, src: Path | None = None, port: int | None = None
) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB and stdout of one `newsletter send --dry-run` process (of the
    tree whose `src/` is given, else this one); given a relay's port, a real `send --yes` to it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    if src is not None:
        env["PYTHONPATH"] = str(src)
    mode = ["--dry-run"]
    if port is not None:
        env.update(ENV)
        env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none", "SMTP_CONNECTIONS": "4"})
        mode = ["--yes", "--allow-missing-images"]  # the example archive site is not on line
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", issue, *mode, *extra],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        took = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise SystemExit(f"dry run failed ({process.returncode}):\n{text[-2000:]}")
    return took, usage.ru_maxrss // 1024, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--skip-csv", action="store_true", help="Only the database path.")
    parser.add_argument("--real", action="store_true", help="Then a real send to smtp-sink, and the same again.")
    parser.add_argument(
        "--issue",
        default="spring-2018",
        help="The example issue to dry-run (spring-2016 has a ward edition, so the wards it names "
        "are checked against the list).",
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="Also dry-run the database path with another tree's src/ (an earlier commit), "
        "interleaved with this one, twice each, and print the ratio.",
    )
    parser.add_argument("--database", help="the project's database: a SQLite path or a PostgreSQL URL")
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        make_project(args.setup, args.count, database(args.setup, args.database))
        return
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        # In a child process: a forked child's peak RSS counts the parent's pages, so the
        # parent that measures must stay small.
        named = ["--database", args.database] if args.database else []
        subprocess.run([sys.executable, __file__, "--count", str(args.count), "--setup", str(root), *named], check=True)
        took = time.perf_counter() - started
        print(f"setup: {args.count:,} subscribers in the database and in big.csv ({took:.1f} s)")
        paths = [("database (paged)", ())] + ([] if args.skip_csv else [("one-off CSV", ("--subscribers", "big.csv"))])
        for name, extra in paths:
            took, rss, text = run(root, args.issue, *extra)
            line = next((x for x in text.splitlines() if "would be sent" in x), "")
            assert f"{args.count:,} would be sent" in line, text[-1500:]
            print(
                f"{name:18} {args.count:,} recipients in {took:6.1f} s = {args.count / took:8,.0f} recipients/s, "
                f"peak RSS {rss:,} MB"
            )
        print(distinct_names(database(root, args.database)))
        if args.baseline_src is not None:
            compare(root, args, args.baseline_src.resolve())
        if args.real:
            real_send(root, args.issue, args.count)


def real_send(root: Path, issue: str, count: int) -> None:
    """The whole send from the database to smtp-sink, then the same command again, which must
    send nobody and report every recipient as already sent."""
    with smtp_sink() as port:
        for name, expected in (("real send", count), ("the same again", 0)):
            took, rss, text = run(root, issue, port=port)
            found = re.search(r"([\d,]+) sent to ", text)
            sent = int(found.group(1).replace(",", "")) if found else -1
            skipped = f"{count:,} skipped (already sent)" in text
            if sent != expected or (expected == 0 and not skipped):
                raise SystemExit(f"{name}: expected {expected:,} sent, got:\n{text[-1500:]}")
            print(f"{name:18} {sent:,} sent in {took:6.1f} s = {count / took:8,.0f} recipients/s, peak RSS {rss:,} MB")


def distinct_names(location: Location) -> str:
    """What checking the send's ward and tag names against the list costs: the two DISTINCT queries."""
    with connect(location) as db:
        started = time.perf_counter()
        wards = db.execute("SELECT DISTINCT ward FROM subscribers WHERE status = 'subscribed'").fetchall()
        between = time.perf_counter()
        tags = db.execute("SELECT DISTINCT tags FROM subscribers WHERE status = 'subscribed'").fetchall()
        ended = time.perf_counter()
    return (
        f"name check: SELECT DISTINCT ward {between - started:.3f} s ({len(wards)} wards), "
        f"DISTINCT tags {ended - between:.3f} s ({len(tags)} tag sets)"
    )


def compare(root: Path, args: argparse.Namespace, baseline: Path) -> None:
    times: dict[str, list[float]] = {"baseline": [], "this tree": []}
    for _ in range(2):
        for name, src in (("baseline", baseline), ("this tree", None)):
            took, _, text = run(root, args.issue, src=src)
            assert f"{args.count:,} would be sent" in text, text[-1500:]
            times[name].append(took)
            print(f"{name:10} ({src or REPO / 'src'}): {took:6.1f} s")
    best = {name: min(found) for name, found in times.items()}
    print(
        f"best of 2: baseline {best['baseline']:.1f} s, this tree {best['this tree']:.1f} s, "
        f"ratio {best['this tree'] / best['baseline']:.3f}"
    )


if __name__ == "__main__":
    main()
