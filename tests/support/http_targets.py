"""A real HTTP server on 127.0.0.1 for `check --links`: 200, 404, 500, 301 (same and other host),
a HEAD-refusing server, a large image, slow answers that count concurrency, and one that never answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Targets(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.release = threading.Event()  # set at teardown, so "never" handlers end
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.seen: list[tuple[str, str]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Targets

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        server = self.server
        server.seen.append((self.command, self.path))
        path = self.path
        if path == "/never":
            server.release.wait(15)
            return
        if path.startswith("/slow/"):
            with server.lock:
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            time.sleep(0.3)
            with server.lock:
                server.in_flight -= 1
        port = server.server_address[1]
        if path == "/missing":
            return self._send(404, body)
        if path == "/broken":
            return self._send(500, body)
        if path == "/moved":
            return self._send(301, body, {"Location": f"http://localhost:{port}/ok"})
        if path == "/moved-here":
            return self._send(301, body, {"Location": "/ok"})
        if path == "/no-head" and not body:
            return self._send(405, body)
        if path == "/big.jpg":
            return self._send(200, body, size=300 * 1024, kind="image/jpeg")
        return self._send(200, body)

    def _send(self, status: int, body: bool, headers: dict[str, str] | None = None, size: int = 2,
              kind: str = "text/plain") -> None:  # fmt: skip
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if body:
            self.wfile.write(b"x" * size)


@contextmanager
def http_targets() -> Iterator[Targets]:
    server = Targets()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
