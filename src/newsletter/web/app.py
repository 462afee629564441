"""The WSGI application of `newsletter serve`: a router over small handlers, and the rules
every answer follows. Routes: the path of UNSUBSCRIBE_URL (one-click unsubscribe), of
NEWSLETTER_SUBSCRIBE_URL (signup) and `<it>/confirm`, of NEWSLETTER_PREFERENCES_URL, `/healthz`
(the process answers) and `/readyz` (the database answers and its schema is current; else 503).

- Each path has one handler with `get` and `post`; HEAD is GET without a body; anything else
  is 405. `/healthz` answers `ok`.
- Every answer carries the security headers of `http.security_headers` (no caching, no
  referrer, a CSP allowing only the page's own stylesheet).
- Nothing a client sends leads to a 500: unreadable requests are 4xx. A database that is
  busy or cannot be opened is 503 with Retry-After ("try again"). Anything else that raises is
  a fault of ours: 500, with the traceback in the log, so a broken handler cannot pass for a
  busy database.
- One log line per request (logger `newsletter.web.requests`): client address, method, path,
  status, bytes, milliseconds. The path is logged only when it is one of the routes, and never
  the query string: links carry tokens, and a stranger's path could carry an email address.
- `--dev` (`dev=True`) puts a banner on every page: a development server, example settings.
- There are no redirects at all, so there is no open redirect.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from newsletter.errors import ConfigError
from newsletter.settings import Settings
from newsletter.store import Connection, DatabaseError, StorageError, connect, schema
from newsletter.web.config import WebSettings, load_web_settings
from newsletter.web.group_commit import GroupCommit, unavailable
from newsletter.web.guard import Guard
from newsletter.web.http import BadRequest, Response, read_request, security_headers
from newsletter.web.limits import HOUR, ClientLimit
from newsletter.web.links import Links
from newsletter.web.mail import ConfirmationMail
from newsletter.web.pages import Pages, Site, content_security_policy
from newsletter.web.preferences import Preferences
from newsletter.web.sender import LinkSender
from newsletter.web.signup import Confirm, Signup
from newsletter.web.unsubscribe import Unsubscribe

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from newsletter.web.http import Request

log = logging.getLogger("newsletter.web")
requests_log = logging.getLogger("newsletter.web.requests")
PROBES = ("/healthz", "/readyz")

# SQLite's primary result codes for "not now": BUSY, LOCKED, IOERR, FULL, CANTOPEN.


class Handler(Protocol):
    def get(self, request: Request) -> Response: ...

    def post(self, request: Request) -> Response: ...


def list_name(settings: Settings) -> str:
    return settings.list_id.rpartition("<")[0].strip().strip('"') or f"{settings.representative}'s newsletter"


def dev_banner(settings: Settings) -> str:
    """What every page of `newsletter serve --dev` says at its top."""
    if settings.example_values_in_use():
        return "Development server with example settings: for trying the pages on this computer, not for the public."
    return "Development server: for trying the pages on this computer, not for the public."


def url_path(url: str, default: str) -> str:
    return urlsplit(url).path.rstrip("/") or default


class WebApp:
    """Holds the settings, the routes, and one SQLite connection per server thread."""

    def __init__(self, settings: Settings, root: Path, *, dev: bool = False) -> None:
        self.settings = settings
        self.web: WebSettings = load_web_settings(settings)
        self.name = list_name(settings)
        site = Site(
            settings.representative,
            settings.constituency,
            settings.website,
            settings.postal_address,
            settings.contact_phone,
            settings.contact_email,
            settings.contact_url,
            self.web.subscribe_url,
        )
        self.pages = Pages(site, self.web.privacy_url, banner=dev_banner(settings) if dev else "")
        self._local = threading.local()
        self.per_client = ClientLimit(self.web.signups_per_ip_hour, HOUR)
        # Fail at start-up, not on a constituent. Not from the pool: a pooled SQLite connection
        # would outlive its file, and the first request must open the database as it is then.
        start = connect(settings.journal_path)
        try:
            self.per_client.forget_old(start)  # a server stopped for a while keeps no stale rows
        finally:
            start.close()
        self.mail = ConfirmationMail(
            settings,
            root / "templates",
            root / "outbox" / "confirmations",
            list_name=self.name,
            expiry_days=self.web.confirm_seconds // 86_400,
            privacy_url=self.web.privacy_url,
            welcome=self.web.welcome,
        )
        self.links = links = Links(settings, self.web)
        self.path = url_path(settings.unsubscribe_url, "/unsubscribe")
        secrets = [settings.unsubscribe_secret, *settings.previous_secrets]
        web = self.web
        guard = Guard(settings.unsubscribe_secret, web.mails_per_hour, web.guard_work)
        self.unsubscribes = GroupCommit(self._db)  # one commit for a burst of one-click unsubscribes
        self.sender = sender = LinkSender(self.pages, self._db, web, links, self.mail, self.per_client, guard)
        self.routes: dict[str, Handler] = {
            self.path: Unsubscribe(self.pages, self.unsubscribes, settings.list_id, secrets, self.name, self.path),
            web.subscribe_path: Signup(self.pages, self._db, web, sender, self.name),
            web.confirm_path: Confirm(self.pages, self._db, links, self.name, sender),
            web.preferences_path: Preferences(self.pages, self._db, web, links, self.name, sender),
        }
        if len(self.routes) < 4:
            raise ConfigError(
                "UNSUBSCRIBE_URL, NEWSLETTER_SUBSCRIBE_URL and NEWSLETTER_PREFERENCES_URL must have different paths"
            )

    def _db(self) -> Connection:
        """This server thread's connection, opened on first use (from the pool on PostgreSQL)."""
        db: Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.settings.journal_path, pooled=True)
            self._local.db = db
        return db

    def _forget_connection(self) -> None:
        """After a database error the thread's connection may be dead (a restarted server): the
        next request opens a fresh one instead of failing on the old one for ever."""
        db: Connection | None = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            with contextlib.suppress(DatabaseError):  # it is being thrown away either way
                db.close()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        response = self.respond(environ)
        headers = security_headers(response.content_type, len(response.body), content_security_policy())
        start_response(response.status, headers + response.extra)
        body = b"" if method == "HEAD" else response.body
        if requests_log.isEnabledFor(logging.INFO):
            path = str(environ.get("PATH_INFO") or "/").rstrip("/") or "/"
            shown = path if path in self.routes or path in PROBES else "(not a page)"
            requests_log.info(
                "%s %s %s %s %d B %.1f ms",
                str(environ.get("REMOTE_ADDR", "-"))[:64],
                method[:10] if method.isalpha() else "(bad method)",
                shown,
                response.status.split()[0],
                len(body),
                (time.perf_counter() - started) * 1000,
            )
        return [body]

    def respond(self, environ: WSGIEnvironment) -> Response:
        try:
            return self._dispatch(environ)
        except BadRequest as exc:
            return Response(exc.status, self.pages.message("Bad request", str(exc)))
        except (DatabaseError, StorageError) as exc:
            self._forget_connection()
            if not unavailable(exc):
                return self._failed(environ)
            log.warning("database unavailable: %s", exc)
            page = self.pages.message("Please try again", "We could not record this just now.")
            return Response("503 Service Unavailable", page, extra=[("Retry-After", "60")])
        except Exception:
            return self._failed(environ)

    def _failed(self, environ: WSGIEnvironment) -> Response:
        """A fault of ours: logged with its traceback (never the query string: it holds tokens)."""
        log.exception("unexpected error answering %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
        page = self.pages.message(
            "Something went wrong",
            "This is a fault on our side, and it has been logged. Reply to any newsletter and the office will help.",
        )
        return Response("500 Internal Server Error", page)

    def _dispatch(self, environ: WSGIEnvironment) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO") or "/").rstrip("/") or "/"
        if path == "/healthz":
            return Response("200 OK", b"ok\n", "text/plain; charset=utf-8")
        if path == "/readyz":
            return self._ready()
        handler = self.routes.get(path)
        if handler is None:
            return Response("404 Not Found", self.pages.message("Not found", "There is no page here."))
        if method not in ("GET", "HEAD", "POST"):
            page = self.pages.message("Not allowed", "Use the link in the newsletter.")
            return Response("405 Method Not Allowed", page, extra=[("Allow", "GET, HEAD, POST")])
        request = read_request(environ)
        return handler.post(request) if method == "POST" else handler.get(request)

    def _ready(self) -> Response:
        """200 when this process's database answers and its schema is this release's; 503
        otherwise (the reason in the log, not in the answer: it may name the server)."""
        text = "text/plain; charset=utf-8"
        try:
            found = schema.version(self._db())
        except (DatabaseError, StorageError) as exc:
            self._forget_connection()
            log.warning("not ready: the database does not answer: %s", exc)
            return Response("503 Service Unavailable", b"not ready: the database does not answer\n", text)
        if not found.current:
            log.warning("not ready: the database is at schema %s, this release needs %s", found.revision, schema.head())
            body = b"not ready: the database schema is not this release's (newsletter db upgrade)\n"
            return Response("503 Service Unavailable", body, text)
        return Response("200 OK", b"ready\n", text)


def make_app(settings: Settings, root: Path, *, dev: bool = False) -> WebApp:
    """The WSGI application for these settings and the project at `root` (its templates and
    outbox); any WSGI server can run it. `dev` marks every page as a development server's."""
    return WebApp(settings, root, dev=dev)
