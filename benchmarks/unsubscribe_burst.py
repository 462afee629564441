"""A burst of one-click unsubscribes, straight to `serve` and through the proxy, alone and while a
send runs (run by hand, not by pytest): `.venv/bin/python benchmarks/unsubscribe_burst.py
[--posts 5000] [--clients 50] [--send 20000] [--runs 3] [--client selectors|threads]
[--baseline-src DIR] [--profile DIR]`.

Each run starts `newsletter serve` (as deploy/newsletter-serve.service does) behind real Caddy
with deploy/Caddyfile, then `--clients` keep-alive connections post `--posts` one-click
unsubscribes (each a valid token for a different address) four times: straight to `serve` and
through Caddy (Caddy's share is the difference), alone (the same-run baseline) and again while
`newsletter send` of a `--send`-recipient list into the outbox commits its journal to the same
SQLite database (the send is stopped with SIGTERM after the two bursts).

The load generator is one thread with `selectors` (`--client selectors`, the default): 50 Python
threads with http.client (`--client threads`, what the first figures used) spend a core of their
own on the same 2 cores. Each burst prints requests a second, p50/p99 latency, the statuses, and
the CPU seconds each process spent during it (client, serve, Caddy, send). The run ends with how
many suppressions the database holds (every post must be one).

`--baseline-src DIR` runs the same bursts, in the same run, against the package in DIR (e.g.
`git archive <commit> src | tar -x -C DIR`, then DIR/src) before this tree's: the before/after.
`--profile DIR` records `serve` with py-spy (not a project dependency) during each burst.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
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
PHASES = ("direct, alone", "Caddy, alone", "direct, with a send", "Caddy, with a send")
TICK = os.sysconf("SC_CLK_TCK")


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


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process so far (0 once it is gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def request_bytes(host: str, token: str) -> bytes:
    body = b"List-Unsubscribe=One-Click"
    return (
        f"POST /unsubscribe?token={token} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def answered(buffer: bytes) -> tuple[int, int] | None:
    """(status, bytes used) once `buffer` holds a whole response (Content-Length framed)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buffer[:end].decode("latin-1")
    found = re.search(r"(?im)^content-length:\s*(\d+)", head)
    assert found, f"no Content-Length in {head!r}"
    total = end + 4 + int(found.group(1))
    return (int(head.split()[1]), total) if len(buffer) >= total else None


def burst_selectors(host: str, port: int, tokens: list[str], clients: int) -> tuple[list[float], Counter[int]]:
    """One thread, `clients` keep-alive connections, each posting its share in turn."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    selector = selectors.DefaultSelector()
    authority = f"{host}:{port}"
    for share in (tokens[i::clients] for i in range(clients)):
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state = {"left": share, "buffer": b"", "started": time.perf_counter()}
        sock.sendall(request_bytes(authority, state["left"].pop()))  # type: ignore[attr-defined]
        selector.register(sock, selectors.EVENT_READ, state)
    while selector.get_map():
        for key, _ in selector.select(timeout=60):
            sock, state = key.fileobj, key.data
            assert isinstance(sock, socket.socket)
            chunk = sock.recv(65536)
            assert chunk, "the server closed a keep-alive connection"
            state["buffer"] += chunk
            done = answered(state["buffer"])
            if done is None:
                continue
            latencies.append(time.perf_counter() - state["started"])
            statuses[done[0]] += 1
            state["buffer"] = state["buffer"][done[1] :]
            if state["left"]:
                state["started"] = time.perf_counter()
                sock.sendall(request_bytes(authority, state["left"].pop()))
            else:
                selector.unregister(sock)
                sock.close()
    return latencies, statuses


def burst_threads(host: str, port: int, tokens: list[str], clients: int) -> tuple[list[float], Counter[int]]:
    """`clients` threads with http.client (the first figures' load generator)."""
    import http.client
    import threading

    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(share: list[str]) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for token in share:
            started = time.perf_counter()
            connection.request("POST", f"/unsubscribe?token={token}", b"List-Unsubscribe=One-Click", headers)
            response = connection.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses[response.status] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(tokens[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def one_run(args: argparse.Namespace, src: str | None, label: str, offset: int) -> dict[str, dict[str, float]]:
    """The four bursts against one fresh project, its serve, its Caddy and (for two) its send."""
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp) / "office", args.send)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
        env.update(ENV)
        if src:
            env["PYTHONPATH"] = src
        command = [sys.executable, "-m", "newsletter", "serve", "--host", "127.0.0.1", "--port", "0"]
        serve = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert serve.stdout is not None
        upstream = re.search(r"127\.0\.0\.1:(\d+)", serve.stdout.readline())
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
        caddyfile = str(REPO / "deploy" / "Caddyfile")
        caddy = subprocess.Popen(
            ["/usr/bin/caddy", "run", "--config", caddyfile, "--adapter", "caddyfile"],
            env=caddy_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        send = None
        targets = {"direct": int(upstream.group(1)), "Caddy": port}
        list_id, secret = ENV["NEWSLETTER_LIST_ID"], ENV["UNSUBSCRIBE_SECRET"]
        try:
            wait_for(port)
            for n, phase in enumerate(PHASES):
                if "send" in phase and send is None:
                    send = subprocess.Popen(
                        [sys.executable, "-m", "newsletter", "send", "spring-2018", *SEND_ARGS],
                        cwd=root,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(3)  # the send is past its start-up and writing its journal
                first = offset + n * args.posts
                tokens = [make_token(f"burst{first + i}@example.org", list_id, secret) for i in range(args.posts)]
                out[phase] = measure(
                    args, targets[phase.split(",")[0]], tokens, serve.pid, caddy.pid, send, label, phase
                )
            with connect(root / ".newsletter" / "newsletter.sqlite3") as db:
                kept = int(db.execute("SELECT count(*) FROM suppressions WHERE email LIKE 'burst%'").scalar_one())
            print(f"  recorded {kept:,} of {len(PHASES) * args.posts:,}", flush=True)
            out["lost"] = {"n": len(PHASES) * args.posts - kept}
        finally:
            if send is not None:
                send.send_signal(signal.SIGTERM)
                send.wait(timeout=120)
            caddy.terminate()
            caddy.wait(timeout=30)
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
    return out


def measure(
    args: argparse.Namespace,
    port: int,
    tokens: list[str],
    serve: int,
    caddy: int,
    send: subprocess.Popen[bytes] | None,
    label: str,
    phase: str,
) -> dict[str, float]:
    spy = None
    if args.profile:
        name = f"{label}-{phase.replace(', ', '-').replace(' ', '-')}-{time.strftime('%H%M%S')}.json"
        output = str(Path(args.profile) / name)
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(serve), "--format", "speedscope", "--idle", "--output", output],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
    pids = {"serve": serve, "Caddy": caddy, "send": send.pid if send else None}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    mine = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    run = burst_selectors if args.client == "selectors" else burst_threads
    latencies, statuses = run("127.0.0.1", port, tokens, args.clients)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    cpu["client"] = after.ru_utime + after.ru_stime - mine.ru_utime - mine.ru_stime
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    cuts = statistics.quantiles(latencies, n=100)
    shares = ", ".join(f"{name} {seconds / took:.2f}" for name, seconds in cpu.items() if seconds)
    print(
        f"  {label} {phase:20}: {len(tokens) / took:,.0f} a second, p50 {cuts[49] * 1000:.0f} ms, "
        f"p99 {cuts[98] * 1000:.0f} ms, statuses {dict(statuses)}, CPU (cores) {shares}",
        flush=True,
    )
    return {"rate": len(tokens) / took, "p50": cuts[49] * 1000, "p99": cuts[98] * 1000, "serve": cpu["serve"] / took}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--send", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--client", choices=("selectors", "threads"), default="selectors")
    parser.add_argument("--baseline-src", default="")
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    print(describe(), "| load average", os.getloadavg(), "| client:", args.client)
    builds = {"before": args.baseline_src, "after": None} if args.baseline_src else {"this": None}
    results: dict[str, list[dict[str, dict[str, float]]]] = {label: [] for label in builds}
    for run in range(args.runs):
        print(f"run {run + 1}:", flush=True)
        for b, (label, src) in enumerate(builds.items()):
            offset = (run * len(builds) + b) * len(PHASES) * args.posts
            results[label].append(one_run(args, src, label, offset))
    for label, rows in results.items():
        for phase in PHASES:
            line = []
            for key in ("rate", "p50", "p99", "serve"):
                values = [row[phase][key] for row in rows]
                form = ",.2f" if key == "serve" else ",.0f"
                line.append(f"{key} {statistics.median(values):{form}} ({min(values):{form}}-{max(values):{form}})")
            print(f"{label:6} {phase:20}: " + ", ".join(line))
        print(f"{label:6} lost: {sum(row['lost']['n'] for row in rows):.0f}")
    print("load average at the end", os.getloadavg())


if __name__ == "__main__":
    main()
