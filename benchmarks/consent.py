"""Consent timings (run by hand, not by pytest): `.venv/bin/python benchmarks/consent.py`.

1. 500 one-click POSTs, one after another, through a real `newsletter serve` on loopback,
   each committed durably (WAL, synchronous=FULL) before the answer.
2. `newsletter bounces import` of a 2,000-message mbox built from the DSN fixtures, then again.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.bounce_mail import fixture_text, write_mbox  # noqa: E402

from newsletter.audience.tokens import make_token  # noqa: E402

LIST_ID = "Ann Coffey MP's newsletter <newsletter.stockport.example.org>"
SECRET = "a-test-secret-that-is-long-enough"
SHAPES = ["postfix-hard.eml", "exim-hard.eml", "m365-hard.eml", "gmail-hard.eml", "gmail-soft.eml"]


def one_click(env: dict[str, str], cwd: Path, count: int = 500) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--dev", "--port", "0"],  # example settings, loopback
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        found = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
        assert found, "serve did not print its URL"
        tokens = [make_token(f"person{i}@example.org", LIST_ID, SECRET) for i in range(count)]
        started = time.perf_counter()
        for token in tokens:
            request = urllib.request.Request(
                f"{found.group()}/unsubscribe?token={token}", data=b"List-Unsubscribe=One-Click"
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        took = time.perf_counter() - started
        print(f"one-click POST, sequential: {count} in {took:.2f} s = {took / count * 1000:.2f} ms each")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


def bounce_import(env: dict[str, str], cwd: Path, count: int = 2000) -> None:
    texts = []
    for i in range(count):
        text = fixture_text(SHAPES[i % len(SHAPES)], message_id=f"<x.{i}@x.test>")
        text = re.sub(r"(?m)^(Message-I[dD]:)\s*\n?\s*<[^>]+>", rf"\1 <bounce{i}@mx.test>", text, count=1)
        texts.append(text.replace("example.com", f"e{i}.example.com").replace("example.org", f"e{i}.example.org"))
    write_mbox(cwd / "big.mbox", texts)
    for run in (1, 2):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "newsletter", "bounces", "import", "big.mbox"],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        took = time.perf_counter() - started
        print(f"bounces import, {count:,} DSNs, run {run}: {took:.2f} s: {result.stdout.strip().splitlines()[-1]}")


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "UNSUBSCRIBE_", "SMTP_"))}
    env.update(
        {
            "UNSUBSCRIBE_SECRET": SECRET,
            "UNSUBSCRIBE_URL": "http://127.0.0.1/unsubscribe",
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(REPO / "templates", Path(folder) / "templates")  # serve renders the signup email
        (Path(folder) / "issues").mkdir()  # a project (no command runs outside one)
        one_click(env, Path(folder))
        bounce_import(env, Path(folder))


if __name__ == "__main__":
    main()
