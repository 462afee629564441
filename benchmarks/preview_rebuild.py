"""Median time for the preview to rebuild the example issue after a save, against its parts
measured in the same run.

A rebuild is what the preview server does on every save: read `.env` and the settings, load
and validate the issue and its articles, render (Jinja2 -> MJML -> premailer, text template),
run the checks, build one reader's message and parse it back. The baselines are a bare
`compose()` (what `build` and `send` pay once) and MJML + premailer alone on the same source.

    python benchmarks/preview_rebuild.py [--issue issues/spring-2018.yaml] [--runs 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe
from newsletter.checks.preflight import run_checks
from newsletter.content.issue import load_issue
from newsletter.content.render import Renderer, compile_mjml
from newsletter.mail.compose import compose
from newsletter.preview.readers import GENERIC
from newsletter.preview.state import Rebuilder, parse_message
from newsletter.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
REBUILD = "preview rebuild (settings + compose + checks + 1 message, parsed)"
COMPOSE = "baseline: compose() alone (load, Jinja, MJML, premailer, text)"


def medians_ms(steps: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Interleaved: each run times every step once, so a noisy neighbour slows all alike."""
    for step in steps.values():
        step()  # warm: Jinja's compiled templates, cssutils' caches
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(runs):
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issue", type=Path, default=ROOT / "issues" / "spring-2018.yaml")
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()

    no_env = ROOT / ".benchmark-has-no-env"  # the example settings, whatever the developer's .env says
    settings = load_settings({})
    issue = load_issue(args.issue)
    renderer = Renderer(issue.project.templates_dir)
    mjml_source = renderer.render_mjml(issue, settings)
    origin = issue.project.templates_dir / "newsletter.mjml.j2"

    started = time.perf_counter()
    first = Rebuilder(args.issue, no_env).rebuild(1, GENERIC)
    cold = (time.perf_counter() - started) * 1000
    if first.problem is not None:
        sys.exit(f"the example issue does not build: {first.problem.lines}")

    rebuilder = Rebuilder(args.issue, no_env)
    composed = compose(args.issue, settings, renderer)
    figures = medians_ms(
        {
            REBUILD: lambda: rebuilder.rebuild(1, GENERIC),
            COMPOSE: lambda: compose(args.issue, settings, renderer),
            "baseline: MJML + premailer alone": lambda: compile_mjml(mjml_source, origin),
            "part: run_checks": lambda: run_checks(composed),
            "part: build 1 message + parse it": lambda: parse_message(composed.factory.build(GENERIC).data),
        },
        args.runs,
    )
    print(f"machine: {describe()}")
    print(
        f"issue: {args.issue.relative_to(ROOT) if args.issue.is_relative_to(ROOT) else args.issue}, "
        f"{len(composed.rendered.html) / 1024:.1f} KB of HTML; median of {args.runs} interleaved runs"
    )
    print(f"{'first rebuild, new Renderer: Jinja compiles the templates (once)':<68} {cold:8.1f} ms")
    for name, value in figures.items():
        print(f"{name:<68} {value:8.1f} ms")
    print(f"ratio rebuild / compose(): {figures[REBUILD] / figures[COMPOSE]:.2f}x")


if __name__ == "__main__":
    main()
