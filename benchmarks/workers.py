"""Several workers, one send: `newsletter send --workers 1` and `--workers 2` against
`smtp-source -d -s 4` (the like-for-like baseline: sessions kept open) on fresh `smtp-sink`
processes on 127.0.0.1, in the same run; and a claim round trip (claim 100, mark them sending,
mark them sent) on SQLite and on a throwaway PostgreSQL server. Median and range over rounds.

    .venv/bin/python benchmarks/workers.py --count 5000 --rounds 3

The whole command is timed (start-up, planning and the workers' start-up included), as a user
sees it. Needs /usr/sbin/smtp-sink and smtp-source (Debian package `postfix`) and, for the claim
round trip on PostgreSQL, Debian's PostgreSQL binaries.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from benchmarks._machine import describe  # noqa: E402
from benchmarks.send_throughput import ENV, message_size, project, smtp_sink, smtp_source  # noqa: E402
from tests.support.postgres import Cluster, binaries  # noqa: E402

from newsletter.store import claims, connect, transaction  # noqa: E402
from newsletter.store.journal import Journal  # noqa: E402


def cli_send(port: int, count: int, workers: int, workdir: Path) -> float:
    """Seconds for the whole `newsletter send spring-2018 --workers N --yes`."""
    root = project(workdir, count)
    database = workdir / f"journal-{time.monotonic_ns()}.sqlite3"
    shutil.copy(root / "seeded.sqlite3", database)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    env.update(ENV)
    env.update(
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "SMTP_CONNECTIONS": "2",
            "NEWSLETTER_DATABASE": str(database),
            "NO_COLOR": "1",
        }
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", "send", "spring-2018", "--workers", str(workers), "--yes"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.perf_counter() - started
    sent = re.search(r"([\d,]+) sent to ", done.stdout)
    if done.returncode != 0 or sent is None or int(sent.group(1).replace(",", "")) != count:
        raise RuntimeError(f"newsletter send failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):,.0f} (range {min(values):,.0f}-{max(values):,.0f})"


def throughput(count: int, rounds: int, workdir: Path) -> None:
    size = message_size()
    print(f"\n## {count:,} messages of {size:,} bytes to smtp-sink on 127.0.0.1, msg/s, {rounds} rounds")
    rates: dict[str, list[float]] = {"smtp-source -d -s 4": [], "--workers 1": [], "--workers 2": []}
    for _ in range(rounds):
        with smtp_sink() as port:
            rates["smtp-source -d -s 4"].append(count / smtp_source(port, count, 4, size))
        for workers in (1, 2):
            with smtp_sink() as port:
                rates[f"--workers {workers}"].append(count / cli_send(port, count, workers, workdir))
    base = statistics.median(rates["smtp-source -d -s 4"])
    for name, values in rates.items():
        print(f"{name:>22}: {spread(values)} msg/s; ratio to smtp-source {statistics.median(values) / base:.2f}")


def round_trip(location: Path | str, rounds: int) -> list[float]:
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
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        throughput(args.count, args.rounds, workdir)
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
