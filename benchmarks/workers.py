"""Several workers, one send: `newsletter send --workers 1` and `--workers 2`, and a plain
`newsletter send` (one process, no claims) for reference, against `smtp-source -d -s 4` (the
like-for-like baseline: sessions kept open) on fresh `smtp-sink` processes on 127.0.0.1, in the
same run; and a claim round trip (claim 100, mark them sending, mark them sent) on SQLite and on
a throwaway PostgreSQL server. Median and range over rounds.

    .venv/bin/python benchmarks/workers.py --count 20000 --rounds 3

The whole command is timed (start-up, planning and the workers' start-up included), as a user
sees it. Each process sending (the plain send, each worker) opens `--connections` SMTP
connections (SMTP_CONNECTIONS, default 4): `--workers 2` opens twice as many as smtp-source.
`--database URL_OR_PATH` puts the sends' list of record there (default: a SQLite file, copied
afresh for each send; a PostgreSQL URL must name an empty database). Needs /usr/sbin/smtp-sink
and smtp-source (Debian package `postfix`) and, for the claim round trip on PostgreSQL,
Debian's PostgreSQL binaries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from benchmarks._machine import describe  # noqa: E402
from benchmarks.send_throughput import cli_send, message_size, smtp_sink, smtp_source  # noqa: E402
from tests.support.postgres import Cluster, binaries  # noqa: E402

from newsletter.store import Location, claims, connect, transaction  # noqa: E402
from newsletter.store.journal import Journal  # noqa: E402

SENDS = {"send (one process)": (), "--workers 1": ("--workers", "1"), "--workers 2": ("--workers", "2")}


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):,.0f} (range {min(values):,.0f}-{max(values):,.0f})"


def throughput(count: int, rounds: int, connections: int, workdir: Path, database: str | None) -> None:
    size = message_size()
    print(f"\n## {count:,} messages of {size:,} bytes to smtp-sink on 127.0.0.1, msg/s, {rounds} rounds")
    print(f"SMTP_CONNECTIONS={connections} for each sending process; database: {database or 'a SQLite file'}")
    baseline = "smtp-source -d -s 4"
    rates: dict[str, list[float]] = {baseline: [], **{name: [] for name in SENDS}}
    for number in range(1, rounds + 1):
        with smtp_sink() as port:
            rates[baseline].append(count / smtp_source(port, count, 4, size))
        for name, args in SENDS.items():
            with smtp_sink() as port:
                took = cli_send(port, count, connections, workdir, args=args, database=database)
                rates[name].append(count / took)
        print(
            f"round {number}: " + ", ".join(f"{name} {values[-1]:,.0f}" for name, values in rates.items()), flush=True
        )
    base = statistics.median(rates[baseline])
    for name, values in rates.items():
        print(f"{name:>22}: {spread(values)} msg/s; ratio to smtp-source {statistics.median(values) / base:.2f}")


def round_trip(location: Location, rounds: int) -> list[float]:
    """Milliseconds to claim 100 planned rows, mark them sending, then sent (two commits)."""
    with connect(location) as db, transaction(db):
        for r in range(rounds):
            for i in range(100):
                email = f"r{r}-{i:03d}@example.org"
                db.execute(
                    "INSERT INTO subscribers (email, status, created_at, updated_at) VALUES (?, 'subscribed', '', '')",
                    (email,),
                )
                db.execute(
                    "INSERT INTO deliveries (issue, route, email, state, created_at, updated_at, job) "
                    "VALUES ('bench', 'smtp', ?, 'pending', '', '', 1)",
                    (email,),
                )
    took = []
    with Journal(location, claimant="bench") as journal:
        for _ in range(rounds):
            started = time.perf_counter()
            batch = claims.claim(journal.db, 1, "bench", 100, 60.0)
            for person in batch.people:
                journal.mark_sending("bench", person[0], "<id@bench>")
            journal.flush()
            for person in batch.people:
                journal.settle("bench", person[0], "sent", "250 ok")
            journal.flush()
            took.append((time.perf_counter() - started) * 1000)
            assert len(batch.people) == 100 and not journal.lost
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4, help="SMTP_CONNECTIONS of each sending process")
    parser.add_argument("--database", help="the sends' list of record: a SQLite path or a PostgreSQL URL")
    parser.add_argument("--skip-throughput", action="store_true", help="only the claim round trip")
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        if not args.skip_throughput:
            throughput(args.count, args.rounds, args.connections, workdir, args.database)
        print("\n## claim round trip: claim 100, mark sending (one commit), mark sent (one commit), ms")
        print(f"{'SQLite':>22}: {spread(round_trip(workdir / 'claims.sqlite3', 20))}")
        bindir = binaries()
        if bindir is not None:
            cluster = Cluster(bindir).start()
            try:
                print(f"{'PostgreSQL':>22}: {spread(round_trip(cluster.new_database(), 20))}")
            finally:
                cluster.remove()


if __name__ == "__main__":
    main()
