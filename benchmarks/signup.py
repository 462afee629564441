"""Signup timings through a real `newsletter serve` on loopback (run by hand, not by pytest):

    .venv/bin/python benchmarks/signup.py [--count 200] [--flood 50000]

Sequential POST /subscribe (each: the per-client limit, validate, store pending + consent
event, render and write the confirmation email to the outbox, commit), then POST of each
emailed confirmation link, against one-click unsubscribe POSTs in the same run (the cheapest
durable request: one transaction, no email). Each signup comes from a client of its own
(X-Forwarded-For through a trusted proxy) under the default limit of 10 an hour, so every one
is a new key for the limit, as in a real week of signups. `--flood N` first fills the limit's
table with N rows from other clients (where the release has that table), to measure a signup
when a flood has brought the table to its cap.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe  # noqa: E402
from newsletter.audience.tokens import make_token  # noqa: E402

LIST_ID = "Ann Coffey MP's newsletter <newsletter.stockport.example.org>"
SECRET = "a-test-secret-that-is-long-enough"


def post(url: str, data: bytes, headers: dict[str, str] | None = None) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=30) as response:
        response.read()


def flood(root: Path, rows: int) -> str:
    """Fill the per-client limit's table with `rows` rows from other clients, just now."""
    try:
        from newsletter.store import (
            client_limits,  # noqa: F401 (only whether this release has it)
            connect,
            transaction,
        )
    except ImportError:
        return "no client_limits table in this release: --flood ignored"
    [database] = (root / ".newsletter").glob("*.sqlite3")
    now = time.time()
    with connect(database) as db, transaction(db):
        db.executemany(
            "INSERT INTO client_limits (key, at) VALUES (?, ?)",
            ((n.to_bytes(16, "big"), now - 1 + n / rows) for n in range(rows)),
        )
    return f"client_limits filled with {rows:,} rows"


def timed(label: str, count: int, each: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(count):
        each(i)
    took = (time.perf_counter() - started) / count * 1000
    print(f"{label}: {count} sequential, {took:.2f} ms each")
    return took


def limit_alone(root: Path, count: int, baseline: float) -> None:
    """The per-client limit's own transaction, in this process on the served database (WAL,
    synchronous=FULL, as `serve` opens it), a new client each time."""
    try:
        from newsletter.store import client_limits
    except ImportError:
        return  # a release before the limit moved into the database
    from newsletter.store import connect

    [database] = (root / ".newsletter").glob("*.sqlite3")
    db = connect(database)
    window = client_limits.Window(10, 3600)

    def check(i: int) -> None:
        client_limits.hit(db, window, "bench", f"198.18.{i // 256 % 256}.{i % 256}")

    try:
        took = timed("per-client limit alone (one transaction)", count, check)
    finally:
        db.close()
    print(f"the limit is {took / baseline:.2f}x a one-click unsubscribe")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--flood", type=int, default=0)
    arguments = parser.parse_args()
    count = arguments.count
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "UNSUBSCRIBE_", "SMTP_"))}
    env.update(
        {
            "UNSUBSCRIBE_SECRET": SECRET,
            "UNSUBSCRIBE_URL": "http://127.0.0.1/unsubscribe",
            "NEWSLETTER_SIGNUP_PER_IP": "10",
            "NEWSLETTER_SERVE_TRUSTED_PROXY": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
        }
    )
    print(describe())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in ("issues", "templates"):
            shutil.copytree(REPO / name, root / name)
        server = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "serve", "--dev", "--port", "0"],  # example settings, loopback
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            found = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
            assert found, "serve did not print its URL"
            base = found.group()

            def signup(i: int) -> None:
                form = {
                    "email": f"person{i}@example.org",
                    "first_name": "Sam",
                    "ward": "Manor",
                    "topics": "schools",
                    "consent": "yes",
                    "consent_version": "1",
                }
                client = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
                post(f"{base}/subscribe", urllib.parse.urlencode(form).encode(), {"X-Forwarded-For": client})

            outbox = root / "outbox" / "confirmations"

            def token_of(i: int) -> str:
                message = email.message_from_bytes(
                    (outbox / f"person{i}@example.org.eml").read_bytes(), policy=email.policy.default
                )
                text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
                found = re.search(r"confirm\?token=([A-Za-z0-9_.-]+)", text)
                assert found, text[:500]
                return found.group(1)

            tokens: list[str] = []

            def confirm(i: int) -> None:
                post(f"{base}/subscribe/confirm?token={tokens[i]}", b"")

            def unsubscribe(i: int) -> None:
                token = make_token(f"other{i}@example.org", LIST_ID, SECRET)
                post(f"{base}/unsubscribe?token={token}", b"List-Unsubscribe=One-Click")

            if arguments.flood:
                print(flood(root, arguments.flood))
            baseline = timed("one-click unsubscribe POST (baseline)", count, unsubscribe)
            signed = timed("signup POST (store, render and write the email)", count, signup)
            tokens.extend(token_of(i) for i in range(count))  # read the emails outside the timer
            confirmed = timed("confirmation POST", count, confirm)
            print(
                f"signup costs {signed / baseline:.1f}x a one-click unsubscribe; "
                f"confirmation {confirmed / baseline:.1f}x"
            )
            limit_alone(root, count, baseline)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
