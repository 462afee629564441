"""Sending throughput, end to end through the CLI, against Postfix's C tools in the same run.

Each round runs, one after another on fresh `smtp-sink` processes on 127.0.0.1:
`smtp-source -d -s C` (sessions kept open, as the project keeps them: the like-for-like
baseline), `smtp-source -s C` (a new connection per message), and the whole
`newsletter send ISSUE --yes` command (start-up, loading the list from the project
database where an office keeps it, the journal) with C connections, all
with the same number of messages of the same size. Then the same through a user-space
latency proxy (benchmarks/latency_proxy.py, 20 ms round trip) in front of smtp-sink for
both tools; then peak memory for a long list.

    .venv/bin/python benchmarks/send_throughput.py                 # everything
    .venv/bin/python benchmarks/send_throughput.py --count 20000 --connections 4 --skip-latency
    .venv/bin/python benchmarks/send_throughput.py --database postgresql://localhost/empty --skip-memory

`--database URL_OR_PATH`: where the sends' list of record is (default: a SQLite file in a
throwaway folder, copied afresh for each send). A PostgreSQL URL must name an empty database; its
journal is emptied before each send. The in-process memory measure keeps a SQLite file.

Needs /usr/sbin/smtp-sink and smtp-source (Debian package `postfix`; its daemon is never
started). Everything runs on 127.0.0.1 with bounded loops.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from benchmarks._machine import describe  # noqa: E402

from newsletter.audience.csvfile import Audience, load_audience  # noqa: E402
from newsletter.audience.importing import seed  # noqa: E402
from newsletter.audience.people import Subscriber  # noqa: E402
from newsletter.delivery.pacing import LoopOptions  # noqa: E402
from newsletter.delivery.relays import Relay, SmtpSettings  # noqa: E402
from newsletter.delivery.smtp import SmtpBackend  # noqa: E402
from newsletter.mail.compose import compose  # noqa: E402
from newsletter.sending.plan import plan  # noqa: E402
from newsletter.sending.run import loop_options, send_issue  # noqa: E402
from newsletter.settings import load_settings  # noqa: E402
from newsletter.store import Location, connect, open_store, transaction  # noqa: E402
from newsletter.store.journal import Journal  # noqa: E402

SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
PROXY = Path(__file__).resolve().parent / "latency_proxy.py"
SENDER = "news@stockport-office.test"
SEEDED = "seeded.sqlite3"  # the list of record as an office's database holds it, copied for each send
JOURNAL = ("deliveries", "sends", "send_locks", "issue_snapshot_editions", "issue_snapshots")
# Outward-facing settings that are not example values, so a real send is allowed.
ENV = {
    "NEWSLETTER_FROM": f"Ann Coffey MP <{SENDER}>",
    "NEWSLETTER_REPLY_TO": "Office of Ann Coffey MP <office@stockport-office.test>",
    "NEWSLETTER_LIST_ID": "Ann Coffey MP's newsletter <newsletter.stockport-office.test>",
    "NEWSLETTER_WEBSITE": "https://www.stockport-office.test",
    "NEWSLETTER_ARCHIVE_URL": "https://www.stockport-office.test/newsletter/",
    "NEWSLETTER_POSTAL_ADDRESS": "Office of Ann Coffey MP\\n2 Benchmark Row\\nStockport SK1 3XE",
    "UNSUBSCRIBE_URL": "https://www.stockport-office.test/unsubscribe",
    "UNSUBSCRIBE_MAILTO": "unsubscribe@stockport-office.test",
    "UNSUBSCRIBE_SECRET": "a-benchmark-secret-long-enough",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int) -> None:
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def smtp_sink() -> Iterator[int]:
    port = free_port()
    sink = subprocess.Popen([SINK, "-u", "nobody", f"127.0.0.1:{port}", "1024"], stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port
    finally:
        sink.terminate()
        sink.wait(10)


@contextmanager
def latency_proxy(upstream: int, rtt_ms: float) -> Iterator[int]:
    port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, str(PROXY), str(port), str(upstream), str(rtt_ms)], stdout=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        proxy.terminate()
        proxy.wait(10)


def audience(count: int) -> Audience:
    consented = dt.date(2018, 1, 1)
    people = [Subscriber(f"reader{i:06d}@example.org", f"Reader{i}", consented_at=consented) for i in range(count)]
    return Audience(Path("bench.csv"), subscribers=people, rows=count)


def our_send(
    port: int, count: int, connections: int, workdir: Path, people: Audience | None = None
) -> tuple[float, int]:
    """Messages a second and the mean message size for one send through the real loop (in process)."""
    composed = compose(REPO / "issues" / "spring-2018.yaml", load_settings(ENV))
    relay = Relay("127.0.0.1", port, "none")
    smtp = SmtpSettings(relays=(relay,), timeout=30, loop=LoopOptions(connections=connections))
    journal_path = workdir / f"journal-{connections}-{time.monotonic_ns()}.sqlite3"
    with Journal(journal_path) as journal:
        planned = plan(journal, composed.issue.slug, people or audience(count))
        report = send_issue(composed, planned, SmtpBackend(smtp, SENDER), journal, loop_options(smtp))
    assert report.sent == count and report.error is None, report.outcome()
    return report.sent / report.elapsed, report.bytes // max(1, report.sent)


def message_size() -> int:
    composed = compose(REPO / "issues" / "spring-2018.yaml", load_settings(ENV))
    return len(composed.factory.build(audience(1).subscribers[0]).data)


def write_list(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("email,first_name,last_name,ward,tags,consented_at\n")
        for i in range(count):
            out.write(f"reader{i:06d}@example.org,Reader{i},Smith,Heatons North,newsletter,2018-01-01\n")
    return path


def project(workdir: Path, count: int, database: str | None = None) -> Path:
    """A project folder like an office's: the example issue and a subscriber list of `count` rows,
    imported into `database` (a PostgreSQL URL, or a SQLite path; default: a file in the folder)."""
    root = workdir / f"office-{count}"
    if not root.exists():
        root.mkdir()
        for name in ("issues", "articles", "templates", "images"):
            shutil.copytree(REPO / name, root / name)
        write_list(root / "subscribers.csv", count)
        with open_store(seeded(root, database)) as store:
            seed(store.db, root / "subscribers.csv")
            if store.db.backend == "sqlite":
                store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return root


def seeded(root: Path, database: str | None) -> Location:
    if database is not None and "://" in database:
        return database
    return Path(database).resolve() if database else root / SEEDED


def fresh_database(root: Path, workdir: Path, database: str | None) -> Location:
    """What one send starts from: the seeded list with an empty journal (a copy of the SQLite
    file; on a server, the same database with its journal emptied through the store)."""
    location = seeded(root, database)
    if isinstance(location, str):
        with connect(location) as db, transaction(db):
            for table in JOURNAL:
                db.execute(f"DELETE FROM {table}")
        return location
    copy = workdir / f"journal-{time.monotonic_ns()}.sqlite3"
    shutil.copy(location, copy)
    return copy


def cli_send(
    port: int,
    count: int,
    connections: int,
    workdir: Path,
    extra: dict[str, str] | None = None,
    *,
    args: Sequence[str] = (),
    database: str | None = None,
) -> float:
    """Seconds for the whole `newsletter send spring-2018 --yes [args]` command, start-up included."""
    root = project(workdir, count, database)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    env.update(ENV)
    env.update(
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "SMTP_CONNECTIONS": str(connections),
            "NEWSLETTER_DATABASE": str(fresh_database(root, workdir, database)),
            "NO_COLOR": "1",
        }
    )
    env.update(extra or {})
    started = time.perf_counter()
    done = subprocess.run(
        # The example archive site is not on line: the pictures are not checked.
        [sys.executable, "-m", "newsletter", "send", "spring-2018", "--yes", "--allow-missing-images", *args],
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


def smtp_source(port: int, count: int, sessions: int, size: int, *, keep_open: bool = True) -> float:
    """Seconds for smtp-source to hand over `count` messages of `size` bytes."""
    started = time.perf_counter()
    subprocess.run(
        [
            SOURCE,
            *(["-d"] if keep_open else []),
            "-s",
            str(sessions),
            "-l",
            str(size),
            "-m",
            str(count),
            "-f",
            SENDER,
            "-t",
            "reader@example.org",
            f"127.0.0.1:{port}",
        ],
        check=True,
        timeout=900,
    )
    return time.perf_counter() - started


def throughput(count: int, connection_counts: list[int], rounds: int, workdir: Path, database: str | None) -> None:
    size = message_size()
    print(f"\n## {count:,} messages of {size:,} bytes to smtp-sink on 127.0.0.1, end to end")
    print("newsletter = the whole `newsletter send` command (start-up, list load, journal)")
    print(
        f"{'conns':>5} {'round':>5} {'source -d':>10} {'source':>8} {'newsletter':>11} "
        f"{'vs -d':>6} {'vs no -d':>8}   (msg/s)"
    )
    for connections in connection_counts:
        ratios = []
        for round_ in range(1, rounds + 1):
            with smtp_sink() as port:
                keep = count / smtp_source(port, count, connections, size)
            with smtp_sink() as port:
                fresh = count / smtp_source(port, count, connections, size, keep_open=False)
            with smtp_sink() as port:
                ours = count / cli_send(port, count, connections, workdir, database=database)
            ratios.append(ours / keep)
            print(
                f"{connections:>5} {round_:>5} {keep:>10,.0f} {fresh:>8,.0f} {ours:>11,.0f} "
                f"{ours / keep:>6.2f} {ours / fresh:>8.2f}",
                flush=True,
            )
        print(f"{connections:>5} median ratio to smtp-source -d: {statistics.median(ratios):.2f}")


def latency(rtt_ms: float, count: int, connection_counts: list[int], workdir: Path, database: str | None) -> None:
    size = message_size()
    print(f"\n## {count:,} messages through a latency proxy ({rtt_ms:g} ms round trip) to smtp-sink")
    print(f"{'conns':>5} {'source -d':>10} {'newsletter':>11} {'ratio':>6}   (msg/s; newsletter end to end)")
    for connections in connection_counts:
        with smtp_sink() as sink, latency_proxy(sink, rtt_ms) as port:
            keep = count / smtp_source(port, count, connections, size)
        with smtp_sink() as sink, latency_proxy(sink, rtt_ms) as port:
            ours = count / cli_send(port, count, connections, workdir, database=database)
        print(f"{connections:>5} {keep:>10,.1f} {ours:>11,.1f} {ours / keep:>6.2f}", flush=True)


def dkim_cost(count: int, connections: int, workdir: Path, database: str | None) -> None:
    """Per-message cost of DKIM signing, and the whole command's throughput with it on."""
    from newsletter.mail.dkim import generate_key

    pem, _ = generate_key()
    key = workdir / "dkim.pem"
    key.write_bytes(pem)
    signing = {"DKIM_DOMAIN": "stockport-office.test", "DKIM_SELECTOR": "bench", "DKIM_PRIVATE_KEY": str(key)}
    plain = compose(REPO / "issues" / "spring-2018.yaml", load_settings(ENV)).factory
    signed = compose(REPO / "issues" / "spring-2018.yaml", load_settings({**ENV, **signing})).factory
    people = audience(2000).subscribers
    costs = {}
    for name, factory in (("unsigned", plain), ("signed", signed), ("unsigned again", plain)):
        started = time.perf_counter()
        for person in people:
            factory.build(person, wire=True)
        costs[name] = (time.perf_counter() - started) / len(people) * 1e6
    print(f"\n## DKIM (2048-bit RSA): MessageFactory.build(wire=True), {len(people):,} recipients each")
    print("  ".join(f"{name}: {cost:,.0f} us" for name, cost in costs.items()))
    print(f"signing adds {costs['signed'] - (costs['unsigned'] + costs['unsigned again']) / 2:,.0f} us a message")
    print(f"whole `newsletter send` of {count:,} to smtp-sink, {connections} connections:")
    for name, extra in (("unsigned", {}), ("signed", signing), ("unsigned", {}), ("signed", signing)):
        with smtp_sink() as port:
            took = cli_send(port, count, connections, workdir, extra, database=database)
            print(f"  {name:<9} {count / took:>7,.0f} msg/s", flush=True)


def memory_child(count: int, port: int, workdir: Path) -> None:
    """Runs in a fresh process: load a CSV of `count` rows, send them all, print peak RSS."""
    people = load_audience(write_list(workdir / "memory.csv", count))
    rate, _ = our_send(port, count, 4, workdir, people)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count:,} recipients from a CSV to smtp-sink, 4 connections: {rate:,.0f} msg/s, peak RSS {peak:,.0f} MB")


def memory(count: int, workdir: Path) -> None:
    print("\n## Memory")
    for n in (count // 10, count):
        with smtp_sink() as port:
            subprocess.run(
                [sys.executable, __file__, "--memory-child", str(n), "--port", str(port), "--workdir", str(workdir)],
                check=True,
                timeout=900,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--connections", default="4")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=float, default=20.0, help="round trip of the latency proxy, ms")
    parser.add_argument("--latency-count", type=int, default=1000)
    parser.add_argument("--memory-count", type=int, default=100_000)
    parser.add_argument("--database", help="the list of record: a SQLite path or a PostgreSQL URL (an empty database)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-dkim", action="store_true")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.port, args.workdir)
        return
    if not (shutil.which(SINK) and shutil.which(SOURCE)):
        sys.exit(f"{SINK} and {SOURCE} are needed (Debian package postfix)")
    print(describe())
    workdir = Path(tempfile.mkdtemp(prefix="newsletter-bench-"))
    connections = [int(c) for c in args.connections.split(",")]
    try:
        if not args.skip_throughput:
            throughput(args.count, connections, args.rounds, workdir, args.database)
        if not args.skip_latency:
            latency(args.latency, args.latency_count, connections, workdir, args.database)
        if not args.skip_dkim:
            dkim_cost(args.count, connections[0], workdir, args.database)
        if not args.skip_memory:
            memory(args.memory_count, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
