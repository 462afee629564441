"""A real HTTP server on 127.0.0.1 for the feed import tests, and the ways a server can fail.

Routes: `/feed/` (a WordPress RSS feed), `/statements/atom.xml` (an Atom feed), `/missing`
(404), `/page.html` (a web page, not a feed), `/big` and `/big-chunked` (bodies over the size
limit, with and without Content-Length), `/loop` (a redirect loop), `/to-ftp` (a redirect to
ftp://), `/moved` (one redirect to the RSS feed). `silent_port()` accepts connections and
never answers; `closed_port()` refuses them.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
OVER_LIMIT = 5 * 1024 * 1024 + 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files: ClassVar[dict[str, tuple[str, str]]] = {
        "/feed/": ("wordpress.rss", "application/rss+xml; charset=UTF-8"),
        "/statements/atom.xml": ("office.atom", "application/atom+xml"),
    }

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/html", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        if path in self.files:
            name, content_type = self.files[path]
            folder: Path = self.server.feeds  # type: ignore[attr-defined]
            self._send(200, (folder / name).read_bytes(), content_type)
        elif path == "/page.html":
            self._send(200, b"<!doctype html><html><head><title>Ann Coffey</title></head><body><p>Hi</p></body></html>")
        elif path == "/big":
            self._send(200, b"<rss>" + b" " * OVER_LIMIT, "application/rss+xml")
        elif path == "/big-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(OVER_LIMIT // len(chunk) + 2):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading at its limit, as it should
        elif path in ("/loop", "/loop2"):
            self._send(302, b"", Location="/loop2" if path == "/loop" else "/loop")
        elif path == "/to-ftp":
            self._send(302, b"", Location="ftp://127.0.0.1/feed.xml")
        elif path == "/moved":
            self._send(301, b"", Location="/feed/")
        else:
            self._send(404, b"<p>Not found</p>")


@contextmanager
def feed_server(feeds: Path = FEEDS) -> Iterator[tuple[str, list[str]]]:
    """(base URL, list of request paths seen) of a running server that serves `feeds`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.feeds = feeds  # type: ignore[attr-defined]
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_port() -> Iterator[int]:
    """A port whose server accepts the connection (the kernel does) and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def closed_port() -> int:
    """A port nothing listens on: connecting is refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return int(port)
