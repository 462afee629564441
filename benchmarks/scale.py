"""Scale on both backends (run by hand, not by pytest): `.venv/bin/python benchmarks/scale.py`.

N subscribers (default 1,000,000; `--count` for fewer) in a SQLite project and in a PostgreSQL
one (a throwaway cluster of Debian's binaries, durable: fsync and synchronous commit on, as a
real office's would be), the same people in both. For each backend in the same run, whole
`newsletter send` commands in fresh processes: `spring-2018 --dry-run`, then the real send to
Postfix's `smtp-sink` on 127.0.0.1 (4 connections), which must send every one of the N. Each
line gives wall time, messages (or recipients) a second and the peak RSS of the `newsletter`
process (`os.wait4`; the PostgreSQL server's own processes are not in it). `--runs R` repeats
the pair R times, the backends interleaved, the journal emptied between runs (through the
store), and prints the median and range.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._machine import describe  # noqa: E402
from benchmarks.audience_scale import load_list, people, run  # noqa: E402
from benchmarks.send_throughput import smtp_sink  # noqa: E402
from tests.support.postgres import Cluster, binaries  # noqa: E402

from newsletter.store import Location, connect, transaction  # noqa: E402

JOURNAL = ("deliveries", "sends", "send_locks", "issue_snapshot_editions", "issue_snapshots")


class DurableCluster(Cluster):
    """The tests' throwaway cluster, but durable like a real server (the tests turn fsync off)."""

    def _pg_ctl_start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=50"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")


def setup(root: Path, location: Location, count: int) -> None:
    """A project at `root` whose list of record at `location` holds `count` subscribers, loaded
    through the store's own interface (`audience_scale.load_list`)."""
    for name in ("issues", "articles", "templates", "images"):
        subprocess.run(["cp", "-r", str(REPO / name), str(root / name)], check=True)
    if isinstance(location, str):
        (root / ".env").write_text(f"NEWSLETTER_DATABASE={location}\n", encoding="utf-8")
    load_list(location, people(count))


def forget_sends(location: Location) -> None:
    """Empty the journal (deliveries, runs, locks, snapshots), so the next send sends everyone."""
    with connect(location) as db, transaction(db):
        for table in JOURNAL:
            db.execute(f"DELETE FROM {table}")


def sent_count(text: str) -> int:
    found = re.search(r"([\d,]+) sent to ", text)
    return int(found.group(1).replace(",", "")) if found else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--skip-real", action="store_true", help="Only the dry runs.")
    parser.add_argument("--setup", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        folder, named = args.setup
        setup(Path(folder), named if "://" in named else Path(named), args.count)
        return
    print(f"machine: {describe()}")
    bindir = binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL's initdb was not found (Debian package postgresql)")
    cluster = DurableCluster(bindir).start()
    figures: dict[str, list[tuple[float, int]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            projects: dict[str, tuple[Path, Location]] = {}
            for backend in ("sqlite", "postgresql"):
                root = Path(tmp) / backend
                root.mkdir()
                location: Location = root / ".newsletter" / "newsletter.sqlite3"
                if backend == "postgresql":
                    location = cluster.new_database()
                started = time.perf_counter()
                # In a child process: the measuring parent stays small (audience_scale.py says why).
                command = [sys.executable, __file__, "--count", str(args.count), "--setup", str(root), str(location)]
                subprocess.run(command, check=True)
                print(f"setup {backend}: {args.count:,} subscribers ({time.perf_counter() - started:.1f} s)")
                projects[backend] = (root, location)
            with smtp_sink() as port:
                for number in range(1, args.runs + 1):
                    for backend, (root, where) in projects.items():
                        took, rss, text = run(root, "spring-2018")
                        assert f"{args.count:,} would be sent" in text, text[-1500:]
                        report(figures, f"{backend} dry run", number, took, rss, args.count)
                        if args.skip_real:
                            continue
                        forget_sends(where)
                        took, rss, text = run(root, "spring-2018", port=port)
                        if sent_count(text) != args.count:
                            raise SystemExit(f"{backend}: expected {args.count:,} sent, got:\n{text[-1500:]}")
                        report(figures, f"{backend} send", number, took, rss, args.count)
    finally:
        cluster.remove()
    print(f"\nmedian (range) over {args.runs} run(s), {args.count:,} subscribers:")
    for name, samples in figures.items():
        rates = [args.count / took for took, _ in samples]
        peaks = [rss for _, rss in samples]
        print(
            f"  {name:22} {statistics.median(rates):8,.0f} /s ({min(rates):,.0f}-{max(rates):,.0f}), "
            f"peak RSS {statistics.median(peaks):,.0f} MB ({min(peaks):,}-{max(peaks):,})"
        )


def report(figures: dict[str, list[tuple[float, int]]], name: str, number: int, took: float, rss: int, n: int) -> None:
    figures.setdefault(name, []).append((took, rss))
    print(f"run {number} {name:22} {n:,} in {took:7.1f} s = {n / took:8,.0f} /s, peak RSS {rss:,} MB", flush=True)


if __name__ == "__main__":
    main()
