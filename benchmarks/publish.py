"""The publishing commands end to end, each against the part of its work it cannot avoid,
measured in the same run.

- `newsletter archive --include-unsent` over N issues (copies of the example issues), the whole
  CLI in a subprocess, against the baseline `compose()` of the same N issues in-process (the
  rendering every archive must do), and a rebuild where nothing changed.
- CLI start-up alone (`newsletter --version`), which every command pays once.
- `newsletter import FILE` of a generated WordPress-style feed of M items, the whole CLI in a
  subprocess, against the baseline `feedparser.parse` of the same bytes in-process.

    python benchmarks/publish.py [--issues 30] [--items 200]
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

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe
from newsletter.content.render import Renderer
from newsletter.mail.compose import compose
from newsletter.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
FEED = ROOT / "tests" / "fixtures" / "feeds" / "wordpress.rss"


def cli(folder: Path, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def make_project(folder: Path, issues: int) -> None:
    for name in ("issues", "articles", "templates"):
        shutil.copytree(ROOT / name, folder / name)
    examples = sorted((folder / "issues").glob("*.yaml"))
    for number in range(issues - len(examples)):
        source = examples[number % len(examples)]
        years_back = 1 + number // 3
        text = re.sub(
            r"^date: (\d{4})",
            lambda m, back=years_back: f"date: {int(m.group(1)) - back}",
            source.read_text(),
            count=1,
            flags=re.M,
        )
        (folder / "issues" / f"{source.stem}-copy-{number}.yaml").write_text(text)


def make_feed(items: int) -> bytes:
    text = FEED.read_text(encoding="utf-8")
    head, rest = text.split("<item>", 1)
    body, tail = rest.rsplit("</item>", 1)
    item = "<item>" + body.split("</item>")[1].split("<item>", 1)[1] + "</item>"  # the County Lines item
    copies = [item.replace("/county-lines-violence/", f"/county-lines-violence-{n}/") for n in range(items)]
    return (head + "\n".join(copies) + tail).encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=30)
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        startup = min(cli(project, "--version") for _ in range(3))
        print(f"CLI start-up alone (newsletter --version, best of 3): {startup:.2f} s")
        make_project(project, args.issues)
        paths = sorted((project / "issues").glob("*.yaml"))
        settings = load_settings({})
        started = time.perf_counter()
        renderer = Renderer(project / "templates")
        for path in paths:
            compose(path, settings, renderer)
        baseline = time.perf_counter() - started
        first = cli(project, "archive", "--include-unsent", "--out", "site")
        again = cli(project, "archive", "--include-unsent", "--out", "site")
        per_issue = first / len(paths) * 1000
        print(f"archive of {len(paths)} issues, whole CLI:   {first:6.2f} s  ({per_issue:.0f} ms per issue)")
        print(f"  rebuild with nothing changed:     {again:6.2f} s")
        print(f"  baseline compose() of the same:   {baseline:6.2f} s in-process")
        print(
            f"  ratio archive / compose: {first / baseline:.2f}x; without start-up: {(first - startup) / baseline:.2f}x"
        )

        data = make_feed(args.items)
        (project / "feed.xml").write_bytes(data)
        started = time.perf_counter()
        parsed = feedparser.parse(data, resolve_relative_uris=False)
        parse_time = time.perf_counter() - started
        assert len(parsed.entries) == args.items
        imported = cli(project, "import", "feed.xml")
        repeat = cli(project, "import", "feed.xml")
        print(
            f"import of {args.items} items ({len(data) // 1024} KB), whole CLI: {imported:6.2f} s "
            f"({imported / args.items * 1000:.1f} ms per item)"
        )
        print(f"  again, every item already imported: {repeat:6.2f} s")
        print(f"  baseline feedparser.parse alone:    {parse_time:6.2f} s in-process")
        print(
            f"  ratio import / parse: {imported / parse_time:.2f}x; "
            f"without start-up: {(imported - startup) / parse_time:.2f}x"
        )


if __name__ == "__main__":
    main()
