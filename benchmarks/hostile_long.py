"""The long run of the property-based tests of issue 12: every property with the "long"
hypothesis profile (10,000 examples each, tests/conftest.py), after the same properties with
the suite's profile as the baseline in the same run. Prints one line per property and the
totals; exits 1 if any property fails.

Usage: .venv/bin/python benchmarks/hostile_long.py [--examples N]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe

REPO = Path(__file__).resolve().parent.parent
PROPERTY_FILES = [
    "tests/test_gate_headers.py",
    "tests/test_gate_settings.py",
    "tests/test_gate_output.py",
    "tests/test_hostile_properties.py",
]
_TEST = re.compile(r"^(tests/\S+::\S+):$")
_PHASE = re.compile(r"during generate phase \(([\d.]+) seconds\)")
_COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")
_STOPPED = re.compile(r"Stopped because (.+)")


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    passing: int = 0
    failing: int = 0
    invalid: int = 0
    stopped: str = ""


def run(profile: str, examples: int | None) -> tuple[list[Result], float, int]:
    """Run the property files under one profile; (results per property, wall seconds, exit code)."""
    env = {**os.environ, "HYPOTHESIS_PROFILE": profile}
    if examples is not None:
        env["HYPOTHESIS_LONG_EXAMPLES"] = str(examples)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
        "--timeout",
        "3600",
        *PROPERTY_FILES,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    results: list[Result] = []
    for line in done.stdout.splitlines():
        if found := _TEST.match(line.strip()):
            results.append(Result(found.group(1).split("::", 1)[1]))
        elif results and (found := _PHASE.search(line)) and "generate" in line:
            results[-1].seconds = float(found.group(1))
        elif results and (found := _COUNTS.search(line)) and not results[-1].stopped:
            results[-1].passing, results[-1].failing, results[-1].invalid = map(int, found.groups())
        elif results and (found := _STOPPED.search(line)):
            results[-1].stopped = found.group(1).strip()
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n")
    return results, wall, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", type=int, default=None, help="examples per property (default: the long profile's)"
    )
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(
        f"command: HYPOTHESIS_PROFILE=long {sys.executable} -m pytest --hypothesis-show-statistics "
        + " ".join(PROPERTY_FILES)
    )
    suite, suite_wall, suite_code = run("suite", None)
    long, long_wall, long_code = run("long", args.examples)
    print(f"\n{'property':<72} {'examples':>9} {'invalid':>8} {'seconds':>8}  stopped because")
    for result in long:
        print(f"{result.name:<72} {result.passing:>9,} {result.invalid:>8,} {result.seconds:>8.1f}  {result.stopped}")
    total = sum(r.passing for r in long)
    baseline = sum(r.passing for r in suite)
    failing = sum(r.failing for r in long)
    print(
        f"\nlong profile:  {len(long)} properties, {total:,} passing examples, {failing} failing, "
        f"{long_wall:,.0f} s wall (exit {long_code})"
    )
    print(
        f"suite profile: {len(suite)} properties, {baseline:,} passing examples, {suite_wall:,.1f} s wall "
        f"(exit {suite_code}), the baseline of the same run"
    )
    if baseline and suite_wall:
        print(f"ratio: {total / max(baseline, 1):,.0f}x the examples in {long_wall / suite_wall:,.1f}x the time")
    short = [r.name for r in long if r.passing < 10_000 and "max_examples" in r.stopped]
    if short:
        print("fewer than 10,000 examples: " + ", ".join(short))
    return 0 if long_code == 0 and suite_code == 0 and failing == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
