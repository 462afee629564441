"""Sending throughput: the real send loop (journal included) against Postfix's smtp-sink,
next to smtp-source pushing the same number and size of messages (the machine's limit);
then a relay that answers every command after 20 ms; then peak memory for a long list.

    .venv/bin/python benchmarks/send_throughput.py                 # everything
    .venv/bin/python benchmarks/send_throughput.py --count 20000 --connections 1,4,16 --skip-latency

Needs /usr/sbin/smtp-sink and smtp-source (Debian package `postfix`; its daemon is never
started). Everything runs on 127.0.0.1 with bounded loops.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from benchmarks._machine import describe  # noqa: E402

from newsletter.audience import Audience, Subscriber, load_audience  # noqa: E402
from newsletter.compose import compose  # noqa: E402
from newsletter.delivery.pacing import LoopOptions  # noqa: E402
from newsletter.delivery.relays import Relay, SmtpSettings  # noqa: E402
from newsletter.delivery.smtp import SmtpBackend  # noqa: E402
from newsletter.journal import Journal  # noqa: E402
from newsletter.send import loop_options, plan, send_issue  # noqa: E402
from newsletter.settings import load_settings  # noqa: E402

SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
SENDER = "news@stockport-office.example.net"
ENV = {"NEWSLETTER_FROM": f"Ann Coffey MP <{SENDER}>", "UNSUBSCRIBE_SECRET": "a-benchmark-secret-long-enough"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[int]:
    port = free_port()
    sink = subprocess.Popen([SINK, "-u", "nobody", f"127.0.0.1:{port}", "1024"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port
    finally:
        sink.terminate()
        sink.wait(10)


def audience(count: int) -> Audience:
    consented = dt.date(2018, 1, 1)
    people = [Subscriber(f"reader{i:06d}@example.net", f"Reader{i}", consented_at=consented) for i in range(count)]
    return Audience(Path("bench.csv"), subscribers=people, rows=count)


def our_send(port: int, count: int, connections: int, workdir: Path,
             people: Audience | None = None) -> tuple[float, int]:
    """Messages a second and the mean message size for one send through the real loop."""
    composed = compose(REPO / "issues" / "spring-2018.yaml", load_settings(ENV))
    relay = Relay("127.0.0.1", port, "none")
    smtp = SmtpSettings(relays=(relay,), timeout=30, loop=LoopOptions(connections=connections))
    journal_path = workdir / f"journal-{connections}-{time.monotonic_ns()}.sqlite3"
    with Journal(journal_path) as journal:
        planned = plan(journal, composed.issue.slug, people or audience(count))
        report = send_issue(composed, planned, SmtpBackend(smtp, SENDER), journal, loop_options(smtp))
    assert report.sent == count and report.error is None, report.outcome()
    return report.sent / report.elapsed, report.bytes // max(1, report.sent)


def smtp_source(port: int, count: int, sessions: int, size: int) -> float:
    started = time.perf_counter()
    subprocess.run([SOURCE, "-s", str(sessions), "-l", str(size), "-m", str(count), "-f", SENDER,
                    "-t", "reader@example.net", f"127.0.0.1:{port}"], check=True, timeout=600)
    return count / (time.perf_counter() - started)


def throughput(count: int, connection_counts: list[int], workdir: Path) -> None:
    print(f"\n## {count:,} messages to smtp-sink on 127.0.0.1")
    print(f"{'connections':>11} {'newsletter msg/s':>17} {'smtp-source msg/s':>18} {'ratio':>6}")
    for connections in connection_counts:
        with smtp_sink() as port:
            ours, size = our_send(port, count, connections, workdir)
        with smtp_sink() as port:
            limit = smtp_source(port, count, connections, size)
        print(f"{connections:>11} {ours:>17,.0f} {limit:>18,.0f} {ours / limit:>6.0%}   ({size:,} bytes each)")


@contextmanager
def slow_relay(delay: float) -> Iterator[int]:
    """An aiosmtpd relay in a thread that answers MAIL, RCPT and DATA after `delay` seconds."""
    sys.path.insert(0, str(REPO))
    from tests.support.smtpd import Server

    with Server(delay=delay) as server:
        yield server.port


def latency(delay: float, per_connection: int, workdir: Path) -> None:
    print(f"\n## A relay answering MAIL, RCPT and end-of-DATA after {delay * 1000:.0f} ms each")
    print(f"{'connections':>11} {'msg/s':>8} {'per connection':>15}")
    for connections in (1, 2, 4, 8, 16, 32):
        with slow_relay(delay) as port:
            rate, _ = our_send(port, connections * per_connection, connections, workdir)
        print(f"{connections:>11} {rate:>8,.1f} {rate / connections:>15,.1f}")


def memory_child(count: int, port: int, workdir: Path) -> None:
    """Runs in a fresh process: load a CSV of `count` rows, send them all, print peak RSS."""
    csv_path = workdir / "memory.csv"
    with csv_path.open("w", encoding="utf-8") as out:
        out.write("email,first_name,last_name,ward,tags,consented_at\n")
        for i in range(count):
            out.write(f"reader{i:06d}@example.net,Reader{i},Smith,Heatons North,newsletter,2018-01-01\n")
    people = load_audience(csv_path)
    rate, _ = our_send(port, count, 4, workdir, people)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count:,} recipients from a CSV to smtp-sink, 4 connections: {rate:,.0f} msg/s, peak RSS {peak:,.0f} MB")


def memory(count: int, workdir: Path) -> None:
    print("\n## Memory")
    for n in (count // 10, count):
        with smtp_sink() as port:
            subprocess.run([sys.executable, __file__, "--memory-child", str(n), "--port", str(port),
                            "--workdir", str(workdir)], check=True, timeout=900)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--connections", default="1,4,16")
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument("--per-connection", type=int, default=25, help="messages per connection, latency table")
    parser.add_argument("--memory-count", type=int, default=100_000)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
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
    try:
        throughput(args.count, [int(c) for c in args.connections.split(",")], workdir)
        if not args.skip_latency:
            latency(args.latency, args.per_connection, workdir)
        if not args.skip_memory:
            memory(args.memory_count, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
