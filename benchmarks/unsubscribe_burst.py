"""A burst of one-click unsubscribes through the proxy while a send runs (run by hand, not by
pytest): `.venv/bin/python benchmarks/unsubscribe_burst.py [--posts 5000] [--clients 50]
[--send 20000] [--runs 3]`.

Each run starts `newsletter serve` (as deploy/newsletter-serve.service does) behind real Caddy
with deploy/Caddyfile, then `--clients` threads post `--posts` one-click unsubscribes (each a
valid token for a different address, over keep-alive connections) through Caddy: once alone
(the same-run baseline), once while `newsletter send` of a `--send`-recipient list into the
outbox commits its journal to the same SQLite database. Prints requests a second, p50/p99
latency, the statuses, and how many suppressions the database holds afterwards.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._machine import describe  # noqa: E402
from tests.conftest import REAL_SETTINGS  # noqa: E402

from newsletter.audience.tokens import make_token  # noqa: E402
from newsletter.store import connect  # noqa: E402

SEND_ARGS = ("--subscribers", "big.csv", "--outbox", "out", "--yes")
ENV = {**REAL_SETTINGS, "NEWSLETTER_SERVE_TRUSTED_PROXY": "127.0.0.1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def project(root: Path, recipients: int) -> Path:
    for name in ("issues", "articles", "templates", "images"):
        shutil.copytree(REPO / name, root / name)
    with (root / "big.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "first_name", "last_name", "ward", "tags", "consented_at"])
        for n in range(recipients):
            writer.writerow([f"reader{n}@example.org", "Sam", "Reader", "Manor", "newsletter", "2020-01-01"])
    return root


def burst(base: str, tokens: list[str], clients: int) -> tuple[list[float], Counter[int], float]:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    shares = [tokens[i::clients] for i in range(clients)]

    def client(share: list[str]) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        mine: list[float] = []
        codes: Counter[int] = Counter()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for token in share:
            started = time.perf_counter()
            connection.request("POST", f"/unsubscribe?token={token}", b"List-Unsubscribe=One-Click", headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes[response.status] += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.perf_counter() - started


def one_run(posts: int, clients: int, recipients: int, with_send: bool, offset: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp) / "office", recipients)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
        env.update(ENV)
        serve = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "serve", "--host", "127.0.0.1", "--port", "0"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert serve.stdout is not None
        upstream = re.search(r"127\.0\.0\.1:\d+", serve.stdout.readline())
        assert upstream, "serve did not start"
        port = free_port()
        caddy_env = {
            "PATH": env.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "XDG_DATA_HOME": tmp,
            "XDG_CONFIG_HOME": tmp,
            "NEWSLETTER_SITE": f"http://127.0.0.1:{port}",
            "NEWSLETTER_UPSTREAM": upstream.group(),
            "NEWSLETTER_CADDY_ADMIN": "off",
        }
        caddy = subprocess.Popen(
            ["/usr/bin/caddy", "run", "--config", str(REPO / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
            env=caddy_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        send = None
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            list_id, secret = ENV["NEWSLETTER_LIST_ID"], ENV["UNSUBSCRIBE_SECRET"]
            tokens = [make_token(f"burst{offset + n}@example.org", list_id, secret) for n in range(posts)]
            if with_send:
                send = subprocess.Popen(
                    [sys.executable, "-m", "newsletter", "send", "spring-2018", *SEND_ARGS],
                    cwd=root,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(3)  # the send is past its start-up and writing its journal
            latencies, statuses, took = burst(f"http://127.0.0.1:{port}", tokens, clients)
            sending = send is not None and send.poll() is None
            with connect(root / ".newsletter" / "newsletter.sqlite3") as db:
                kept = int(db.execute("SELECT count(*) FROM suppressions WHERE email LIKE 'burst%'").scalar_one())
        finally:
            if send is not None:
                send.wait(timeout=900)
            caddy.terminate()
            caddy.wait(timeout=30)
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"  {'with a send' if with_send else 'alone      '}: {posts / took:,.0f} a second, "
        f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms, statuses {dict(statuses)}, "
        f"recorded {kept:,}/{posts:,}" + ("" if not with_send else f", send still running at the end: {sending}"),
        flush=True,
    )
    return {"rate": posts / took, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000, "lost": posts - kept}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--send", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for run in range(args.runs):
        print(f"run {run + 1}:", flush=True)
        for with_send in (False, True):
            results[with_send].append(one_run(args.posts, args.clients, args.send, with_send, run * 2 * args.posts))
    for with_send, rows in results.items():
        label = "with a send" if with_send else "alone"
        for key in ("rate", "p50", "p99"):
            values = [row[key] for row in rows]
            print(f"{label:12} {key}: median {statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})")
        print(f"{label:12} lost: {sum(row['lost'] for row in rows):.0f}")


if __name__ == "__main__":
    main()
