"""What the store's layer costs per statement (run by hand): `.venv/bin/python benchmarks/store_overhead.py`.

The store sends textual SQL through SQLAlchemy Core (`Connection.execute` -> `exec_driver_sql`).
This measures that against the driver alone doing the same work in the same run: N single-row
upserts of the journal's shape in one transaction, then N point reads by primary key; on SQLite
(raw `sqlite3` vs the store) and, when PostgreSQL's binaries are here, on a throwaway local
cluster (raw psycopg vs the store). Prints median and range over `--rounds`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._machine import describe  # noqa: E402
from tests.support.postgres import Cluster, binaries  # noqa: E402

from newsletter.store import connect, transaction  # noqa: E402

UPSERT = (
    "INSERT INTO deliveries (issue, route, email, state, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?) "
    "ON CONFLICT (issue, route, email) DO UPDATE SET updated_at = excluded.updated_at"
)
READ = "SELECT state FROM deliveries WHERE issue = ? AND route = ? AND email = ?"


def _store(location: Path | str, n: int) -> tuple[float, float]:
    with connect(location) as db:
        start = time.perf_counter()
        with transaction(db):
            for i in range(n):
                db.execute(UPSERT, ("bench", "smtp", f"p{i}@example.org", "t", "t"))
        wrote = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(n):
            db.execute(READ, ("bench", "smtp", f"p{i}@example.org")).fetchone()
        return wrote, time.perf_counter() - start


def _raw(make: Callable[[], Any], placeholder: str, n: int, begin: str) -> tuple[float, float]:
    raw = make()
    upsert, read = UPSERT.replace("?", placeholder), READ.replace("?", placeholder)
    cursor = raw.cursor()
    start = time.perf_counter()
    cursor.execute(begin)
    for i in range(n):
        cursor.execute(upsert, ("bench", "smtp", f"q{i}@example.org", "t", "t"))
    cursor.execute("COMMIT")
    wrote = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(n):
        cursor.execute(read, ("bench", "smtp", f"q{i}@example.org"))
        cursor.fetchone()
    read_time = time.perf_counter() - start
    raw.close()
    return wrote, read_time


def _report(name: str, samples: list[tuple[float, float]], n: int) -> tuple[float, float]:
    writes = [w / n * 1e6 for w, _ in samples]
    reads = [r / n * 1e6 for _, r in samples]
    print(
        f"  {name:<28} write {statistics.median(writes):6.1f} us ({min(writes):.1f}-{max(writes):.1f})"
        f"   read {statistics.median(reads):6.1f} us ({min(reads):.1f}-{max(reads):.1f})"
    )
    return statistics.median(writes), statistics.median(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n = args.count
    print(describe())
    print(f"{n:,} upserts in one transaction, then {n:,} point reads; per statement, median (range) of {args.rounds}")
    with tempfile.TemporaryDirectory() as folder:
        import sqlite3

        file = Path(folder) / "bench.sqlite3"
        connect(file).close()

        def sqlite_raw() -> Any:
            db = sqlite3.connect(file, isolation_level=None)
            db.execute("PRAGMA synchronous=FULL")
            return db

        print("SQLite (synchronous=FULL):")
        raw = _report("sqlite3 alone", [_raw(sqlite_raw, "?", n, "BEGIN IMMEDIATE") for _ in range(args.rounds)], n)
        ours = _report("store (SQLAlchemy Core)", [_store(file, n) for _ in range(args.rounds)], n)
        print(f"  store / driver: write {ours[0] / raw[0]:.2f}x, read {ours[1] / raw[1]:.2f}x")
    bindir = binaries()
    if bindir is None:
        print("PostgreSQL: not measured (no initdb here)")
        return
    cluster = Cluster(bindir).start()
    try:
        import psycopg

        url = cluster.new_database()
        connect(url).close()
        print("PostgreSQL (local cluster on 127.0.0.1, fsync off):")
        raw = _report(
            "psycopg alone",
            [_raw(lambda: psycopg.connect(url, autocommit=True), "%s", n, "BEGIN") for _ in range(args.rounds)],
            n,
        )
        ours = _report("store (SQLAlchemy Core)", [_store(url, n) for _ in range(args.rounds)], n)
        print(f"  store / driver: write {ours[0] / raw[0]:.2f}x, read {ours[1] / raw[1]:.2f}x")
    finally:
        cluster.remove()


if __name__ == "__main__":
    main()
