"""Pacing against a misbehaving relay, end to end through `newsletter send`.

Three sends of the example issue, each to an aiosmtpd relay in its own process
(benchmarks/faulty_relay.py) on 127.0.0.1, with the default pacing settings:
1. a relay that behaves (the baseline, same run);
2. 5% of transactions answered with a 4xx and 1% of connections dropped;
3. a relay that answers 421 to every command for 10 s, then recovers.
For each: the whole command's time, msg/s, how many failed, and whether every recipient
arrived exactly once (from the relay's own record).

    .venv/bin/python benchmarks/send_pacing.py [--count 5000] [--refuse-count 500] [--rounds 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]

from benchmarks._machine import describe  # noqa: E402
from benchmarks.send_throughput import cli_send, free_port, wait_for_port  # noqa: E402


def run(count: int, workdir: Path, *faults: str) -> tuple[float, Counter[str]]:
    """Seconds for the whole send, and how many copies of each recipient the relay got."""
    port = free_port()
    report = workdir / f"relay-{time.monotonic_ns()}.txt"
    relay = subprocess.Popen(
        [sys.executable, str(HERE / "faulty_relay.py"), str(port), str(report), *faults], stdout=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        elapsed = cli_send(port, count, 4, workdir)
    finally:
        relay.terminate()
        relay.wait(30)
    return elapsed, Counter(report.read_text(encoding="utf-8").split())


def line(name: str, count: int, elapsed: float, got: Counter[str], baseline: float | None) -> str:
    once = len(got) == count and max(got.values()) == 1
    ratio = f"{(count / elapsed) / baseline:.2f}" if baseline else "1.00"
    return (
        f"{name:<34} {elapsed:>7.1f} s {count / elapsed:>8,.0f} msg/s  ratio {ratio}  "
        f"every recipient exactly once: {'yes' if once else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--refuse-count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(describe())
    workdir = Path(tempfile.mkdtemp(prefix="newsletter-pacing-"))
    print(f"\n## {args.count:,} recipients, 4 connections, default pacing settings, whole `newsletter send`")
    for _ in range(args.rounds):  # interleaved: this machine's noise hits both alike
        clean, got = run(args.count, workdir)
        baseline = args.count / clean
        print(line("relay that behaves", args.count, clean, got, None), flush=True)
        faulty, got = run(args.count, workdir, "--temporary", "0.05", "--drop", "0.01")
        print(line("5% 4xx, 1% dropped connections", args.count, faulty, got, baseline), flush=True)
    print(f"\n## {args.refuse_count:,} recipients; the relay answers 421 to everything for its first 10 s")
    refused, got = run(args.refuse_count, workdir, "--refuse-for", "10")
    print(line("421 for 10 s, then recovers", args.refuse_count, refused, got, None), flush=True)


if __name__ == "__main__":
    main()
