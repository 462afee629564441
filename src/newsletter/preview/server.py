"""The preview server: a small stdlib HTTP server on 127.0.0.1, live reload by server-sent events.

It serves a fixed set of routes and nothing from disk by path, so no request can reach a file
outside them. It answers only to Host 127.0.0.1 or localhost, so a web page that rebinds its
DNS name to this machine cannot read the subscriber names the picker shows. It never sends mail
and never writes the database. It is also where staff see the report of each issue (`/report`,
`/report/ISSUE`): on their own machine, on loopback, never on the public site of `serve`.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from newsletter.audience.people import Subscriber
from newsletter.content.images import IMAGES_DIR
from newsletter.errors import InputError, cannot_listen
from newsletter.preview.payload import state_payload
from newsletter.preview.readers import Readers
from newsletter.preview.state import Rebuilder, Snapshot
from newsletter.preview.watch import Watcher
from newsletter.reports.report import build_report
from newsletter.store import Location

HOST = "127.0.0.1"
IMAGES_ROUTE = f"/{IMAGES_DIR}/"
HEARTBEAT_S = 15.0
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The newsletter itself: its own images and inline styles, as a mail client allows; no scripts.
MESSAGE_CSP = (
    "default-src 'none'; img-src 'self' https: http: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
# The report pages: inline styles and SVG only, nothing fetched, no script.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
REPORT_ROUTE = "/report"
ASSETS = {
    "/": ("page.html", "text/html; charset=utf-8"),
    "/assets/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/assets/page.css": ("page.css", "text/css; charset=utf-8"),
}
Log = Callable[[str], None]


def _asset(name: str) -> bytes:
    return resources.files("newsletter.preview").joinpath(name).read_bytes()


class PreviewServer:
    """Owns the current snapshot, the watcher and the HTTP server of one `newsletter preview`."""

    def __init__(
        self,
        issue_path: Path,
        *,
        readers: Readers,
        env_path: Path,
        watch_trees: Iterable[Path],
        port: int = 8025,
        log: Log = lambda _line: None,
        database: Location | None = None,
    ) -> None:
        self.readers = readers
        self.database = database  # read for the report pages only
        self.log = log
        self.instance = secrets.token_hex(4)
        self.assets = {route: (_asset(name), kind) for route, (name, kind) in ASSETS.items()}
        self._rebuilder = Rebuilder(issue_path, env_path)
        self._build_lock = threading.Lock()
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._serving: threading.Thread | None = None
        self._snapshot = self._rebuilder.rebuild(1, readers.default)
        self._show_editions(self._snapshot)
        try:
            self.httpd = _HTTPServer((HOST, port), _Handler)
        except OSError as exc:
            hint = "another preview may be running; try --port 0 for any free port"
            raise cannot_listen(HOST, port, exc, hint=hint) from exc
        self.httpd.preview = self
        singles = [env_path, issue_path] + ([readers.path] if readers.path else [])
        self.watcher = Watcher(watch_trees, singles, self._on_change, self._on_watch_error)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def snapshot(self) -> Snapshot:
        with self._changed:
            return self._snapshot

    def rebuild(self) -> Snapshot:
        """Build again from disk and tell every open page (one build at a time)."""
        with self._build_lock:
            snapshot = self._rebuilder.rebuild(self.snapshot.version + 1, self.readers.default)
            self._show_editions(snapshot)
            with self._changed:
                self._snapshot = snapshot
                self._changed.notify_all()
        self.log(describe(snapshot))
        return snapshot

    def _show_editions(self, snapshot: Snapshot) -> None:
        """The reader picker offers a generic reader for each ward edition of the issue."""
        if snapshot.composed is not None:
            self.readers.show_editions([e.edition for e in snapshot.composed.editions])

    def wait_for_change(self, seen: int, timeout: float) -> Snapshot | None:
        """The snapshot once its version is not `seen`; None on timeout or when closing."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.version != seen or self._closing.is_set(), timeout)
            if self._closing.is_set() or self._snapshot.version == seen:
                return None
            return self._snapshot

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def _on_change(self, paths: set[Path]) -> None:
        if self.readers.path is not None and self.readers.path.resolve() in paths:
            self.readers.reload()
        self.rebuild()

    def _on_watch_error(self, exc: BaseException) -> None:
        self.log(f"file watching stopped: {type(exc).__name__}: {exc} (restart the preview to see new saves)")

    def serve_forever(self) -> None:
        """Watch and serve until `close()` from another thread or Ctrl-C in this one."""
        self.watcher.start()
        self._serving = threading.current_thread()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self._serving = None
            self.close()

    def close(self) -> None:
        """Stop watching, release the event streams, close the socket. Safe to call twice."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        self.watcher.stop()
        serving = self._serving
        if serving is not None and serving is not threading.current_thread():
            self.httpd.shutdown()  # waits for serve_forever in the other thread to return
        self.httpd.server_close()

    def __enter__(self) -> PreviewServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def archive_images(snapshot: Snapshot) -> str:
    """Where the messages of this rebuild address the project's pictures."""
    assert snapshot.composed is not None
    return f"{snapshot.composed.settings.archive_url.rstrip('/')}/{IMAGES_DIR}/"


def describe(snapshot: Snapshot) -> str:
    """One line for the terminal about a rebuild."""
    if snapshot.problem is not None:
        return f"rebuild failed: {' | '.join(snapshot.problem.lines)}"
    errors = sum(f.level == "error" for f in snapshot.findings)
    warnings = len(snapshot.findings) - errors
    return f"rebuilt in {snapshot.elapsed_ms:.0f} ms: {errors} error(s), {warnings} warning(s)"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # open event streams must not hold up Ctrl-C
    preview: PreviewServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "newsletter-preview"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not worth a terminal line; rebuilds are (see PreviewServer.log)."""

    def do_GET(self) -> None:
        try:
            self._route(self.server.preview)
        except (BrokenPipeError, ConnectionResetError):
            return
        except Exception as exc:  # a bug in one request must show, and must not stop the server
            self.server.preview.log(f"error answering {self.path[:200]}: {type(exc).__name__}: {exc}")
            message = f"{type(exc).__name__}: {exc}\n".encode()
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, message, "text/plain; charset=utf-8")

    def _route(self, preview: PreviewServer) -> None:
        host = (self.headers.get("Host") or "").lower()
        if host not in (f"{HOST}:{preview.port}", f"localhost:{preview.port}"):
            self._send(HTTPStatus.FORBIDDEN, b"unknown host\n", "text/plain; charset=utf-8")
            return
        if not self.path.startswith("/") or self.path.startswith("//"):
            self._not_found()
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        reader = preview.readers.find((query.get("subscriber") or [""])[0])
        if url.path in preview.assets:
            body, kind = preview.assets[url.path]
            self._send(HTTPStatus.OK, body, kind, csp=PAGE_CSP, frame="DENY")
        elif url.path == "/state.json":
            payload = state_payload(preview.snapshot, preview.readers, reader, preview.instance)
            self._send(HTTPStatus.OK, json.dumps(payload).encode(), "application/json")
        elif url.path in ("/message.html", "/message.eml"):
            self._message(preview.snapshot, url.path, reader)
        elif url.path == "/events":
            self._events(preview)
        elif url.path == REPORT_ROUTE or url.path.startswith(REPORT_ROUTE + "/"):
            self._report(preview.database, unquote(url.path.removeprefix(REPORT_ROUTE).removeprefix("/")))
        elif url.path.startswith(IMAGES_ROUTE):
            self._picture(preview.snapshot, url.path.removeprefix(IMAGES_ROUTE))
        else:
            self._not_found()

    def _message(self, snapshot: Snapshot, path: str, reader: Subscriber) -> None:
        if snapshot.composed is None:
            self._send(HTTPStatus.CONFLICT, b"the last rebuild failed\n", "text/plain; charset=utf-8")
            return
        view = snapshot.view(reader)
        if path == "/message.html":
            # The project's pictures are not published yet: shown from the preview, live.
            html = view.html.replace(archive_images(snapshot).encode(), IMAGES_ROUTE.encode())
            self._send(HTTPStatus.OK, html, "text/html; charset=utf-8", csp=MESSAGE_CSP, frame="SAMEORIGIN")
        else:
            name = f"{snapshot.composed.issue.slug}.eml"
            self._send(
                HTTPStatus.OK,
                view.raw,
                "message/rfc822",
                extra={"Content-Disposition": f'attachment; filename="{name}"'},
            )

    def _report(self, database: Location | None, slug: str) -> None:
        """Every send (`/report`) or one issue's figures (`/report/ISSUE`), as `newsletter report
        --html` writes them; an issue never sent is a 404 saying so."""
        if database is None:
            self._not_found()
            return
        try:
            page = build_report(
                database, slug or None, link=lambda s: f"{REPORT_ROUTE}/{quote(s)}" if s else REPORT_ROUTE
            )
        except InputError as exc:
            self._send(HTTPStatus.NOT_FOUND, f"{exc}\n".encode(), "text/plain; charset=utf-8")
            return
        self._send(HTTPStatus.OK, page.html, "text/html; charset=utf-8", csp=REPORT_CSP)

    def _picture(self, snapshot: Snapshot, name: str) -> None:
        """A picture the current rebuild made (content/images.py), by its name only: nothing
        else on disk can be asked for."""
        shown = {i.name: i for e in snapshot.composed.editions for i in e.rendered.images} if snapshot.composed else {}
        picture = shown.get(name)
        if picture is None:
            self._not_found()
            return
        kind = "image/png" if name.endswith(".png") else "image/jpeg"
        self._send(HTTPStatus.OK, picture.path.read_bytes(), kind)

    def _events(self, preview: PreviewServer) -> None:
        """Server-sent events: the current version at once, then each new one as it is built."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        snapshot: Snapshot | None = preview.snapshot
        seen = -1
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while not preview.closing:
                if snapshot is None:
                    self.wfile.write(b": still here\n\n")
                else:
                    data = json.dumps({"instance": preview.instance, "version": snapshot.version})
                    self.wfile.write(f"event: rebuild\ndata: {data}\n\n".encode())
                    seen = snapshot.version
                self.wfile.flush()
                snapshot = preview.wait_for_change(seen, HEARTBEAT_S)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return

    def _not_found(self) -> None:
        self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        kind: str,
        *,
        csp: str | None = None,
        frame: str = "DENY",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", frame)
        if csp:
            self.send_header("Content-Security-Policy", csp)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
