"""The web application called directly, as a WSGI server would: a project folder with the
shipped templates, a real database (a SQLite file, or a PostgreSQL database from the `database`
fixture), and `call()` for one request."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waitress import create_server

from newsletter.settings import load_settings
from newsletter.store import Connection, connect
from newsletter.web import make_app
from newsletter.web.app import WebApp
from tests.conftest import REPO

SECRET = "a-test-secret-that-is-long-enough"
LIST_ID = "Ann Coffey MP's newsletter <newsletter.stockport.example.org>"


def web_app(root: Path, database: Path | str | None = None, **env: str) -> WebApp:
    """The app for a fresh project at `root` (templates copied); its database is `database` (a
    file or a postgresql:// URL), by default a SQLite file under `root`."""
    if not (root / "templates").exists():
        shutil.copytree(REPO / "templates", root / "templates")
    settings = load_settings(
        {
            "UNSUBSCRIBE_SECRET": SECRET,
            "UNSUBSCRIBE_PREVIOUS_SECRETS": "an-old-secret-from-last-year",
            "UNSUBSCRIBE_URL": "https://www.example.org/newsletter/unsubscribe",
            "NEWSLETTER_JOURNAL": str(database or root / "journal.sqlite3"),
            **env,
        }
    )
    return make_app(settings, root)


def opened(app: WebApp) -> Connection:
    """A connection of the test's own to the app's database, through the store (close it, or
    use it in `with`)."""
    return connect(app.settings.journal_path)


@dataclass
class Answer:
    status: str
    headers: dict[str, str]
    body: str

    @property
    def code(self) -> int:
        return int(self.status.split()[0])


def call(
    app: WebApp,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    *,
    content_type: str = "application/x-www-form-urlencoded",
    client: str = "192.0.2.10",
    extra: dict[str, Any] | None = None,
) -> Answer:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, dict(headers)

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": client,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_USER_AGENT": "pytest",
        **(extra or {}),
    }
    out = b"".join(app(environ, start_response))
    return Answer(captured["status"], captured["headers"], out.decode("utf-8"))


@contextmanager
def over_http(app: WebApp, threads: int = 2) -> Iterator[str]:
    """The app behind a real waitress server on 127.0.0.1 (a free port), in this process so a
    test can change the app object first; yields the base URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="newsletter")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def close_all() -> None:  # the listening socket, the trigger and any open connection
        for dispatcher in list(server._map.values()):
            dispatcher.close()

    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Closed from the server's own thread, between two polls: closing from this thread
        # races its select() (EBADF in the server thread). An empty map ends its loop.
        server.trigger.pull_trigger(close_all)
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()


def relayed_app(root: Path, relay_port: int, **env: str) -> WebApp:
    """The app with real outward settings, mailing through a relay on 127.0.0.1:`relay_port`
    (confirmations are real mail, so no example value may remain)."""
    from tests.conftest import REAL_SETTINGS

    real = {k: v for k, v in REAL_SETTINGS.items() if k not in ("NEWSLETTER_LIST_ID", "UNSUBSCRIBE_SECRET")}
    real["UNSUBSCRIBE_URL"] = "https://www.stockport-office.test/newsletter/unsubscribe"
    relay = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(relay_port), "SMTP_SECURITY": "none"}
    return web_app(root, **{**real, **relay, **env})
