"""The whole `newsletter build` as a user runs it: first build (no pictures made yet) against a
rebuild with unchanged pictures (every one found in `.newsletter-images/`), median and range.

A copy of the example project is made in a temporary folder. With `--photos` (the default) the
issue's pictures are replaced by 4,000 x 3,000 phone-sized JPEGs of noise (the worst case for
decoding and scaling); with `--drawn` the example's own drawings are used.

    python benchmarks/images_build.py [--issue spring-2018] [--runs 7] [--drawn]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe

ROOT = Path(__file__).resolve().parent.parent
NEWSLETTER = [sys.executable, "-m", "newsletter"]


def _project(folder: Path, photos: bool) -> Path:
    for name in ("issues", "articles", "templates", "images"):
        shutil.copytree(ROOT / name, folder / name)
    if photos:
        for path in (folder / "images").glob("*.png"):
            noise = Image.effect_noise((4000, 3000), 64).convert("RGB")
            noise.save(path, "PNG", compress_level=1)  # still a .png name: the articles stay as they are
    return folder


def _build(project: Path, issue: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    started = time.perf_counter()
    subprocess.run([*NEWSLETTER, "build", issue, "--out", str(project / "build")], cwd=project, env=env, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issue", default="spring-2018")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--drawn", action="store_true", help="the example's drawings, not 4,000 px photos")
    args = parser.parse_args()
    first: list[float] = []
    cached: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp) / "office", photos=not args.drawn)
        for _ in range(args.runs):  # interleaved, so a noisy neighbour slows both alike
            shutil.rmtree(project / ".newsletter-images", ignore_errors=True)
            first.append(_build(project, args.issue))
            cached.append(_build(project, args.issue))
        made = sorted(p.name for p in (project / ".newsletter-images").glob("*.*g"))
    print(describe())
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")
    kind = "the example's drawings (1200 x 750 PNG)" if args.drawn else "4,000 x 3,000 photos"
    print(f"`newsletter build {args.issue}`, {len(made)} pictures made from {kind}, {args.runs} runs each:")
    for name, times in (("first build (no pictures made yet)", first), ("rebuild, pictures unchanged", cached)):
        ms = [t * 1000 for t in times]
        print(f"  {name:36} median {statistics.median(ms):7.0f} ms   range {min(ms):.0f}-{max(ms):.0f} ms")


if __name__ == "__main__":
    main()
