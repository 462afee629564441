"""The WSGI application: RFC 8058 one-click unsubscribe, a confirmation page, and `/healthz`.

- POST (the mailbox provider's one-click button, body `List-Unsubscribe=One-Click`, or the
  page's form): verify the token, suppress the address, commit, then answer 200. No redirect,
  no cookie, no second step, as RFC 8058 section 3.2 requires.
- GET: never unsubscribes (link scanners fetch every URL in a message); it shows the masked
  address and a button that POSTs.
- A token that does not verify: 400 and nothing changes. Repeating an unsubscribe is harmless.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from newsletter import suppressions
from newsletter.settings import Settings
from newsletter.tokens import verify_token
from newsletter.unsubscribe import pages

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MAX_BODY = 8 * 1024  # the one-click body is 26 bytes; a form post a few hundred
ONE_CLICK = "One-Click"


def list_name(settings: Settings) -> str:
    return settings.list_id.rpartition("<")[0].strip().strip('"') or f"{settings.representative}'s newsletter"


class UnsubscribeApp:
    """Holds the settings and one SQLite connection per server thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = urlsplit(settings.unsubscribe_url).path.rstrip("/") or "/unsubscribe"
        self.secrets = [settings.unsubscribe_secret, *settings.previous_secrets]
        self.name = list_name(settings)
        self._local = threading.local()
        suppressions.connect(settings.journal_path).close()  # fail at start-up, not on a constituent

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = suppressions.connect(self.settings.journal_path)
            self._local.db = db
        return db

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = (environ.get("PATH_INFO") or "/").rstrip("/") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path == "/healthz":
            return self._plain(start_response, "200 OK", b"ok\n")
        if path != self.path:
            return self._html(start_response, "404 Not Found", pages.error("Not found", "There is no page here."))
        if method in ("GET", "HEAD"):
            body = self._get(environ)
        elif method == "POST":
            body = self._post(environ)
        else:
            status, page = "405 Method Not Allowed", pages.error("Not allowed", "Use the link in the newsletter.")
            return self._html(start_response, status, page, [("Allow", "GET, HEAD, POST")])
        status, page = body
        return self._html(start_response, status, b"" if method == "HEAD" else page)

    def _address(self, token: str) -> str | None:
        """The address a token names, if it is exactly as issued (`verify_token` refuses any
        altered character)."""
        return verify_token(token, self.settings.list_id, self.secrets) if token else None

    def _get(self, environ: WSGIEnvironment) -> tuple[str, bytes]:
        token = _query(environ).get("token", "")
        address = self._address(token)
        if address is None:
            return "400 Bad Request", pages.invalid()
        return "200 OK", pages.confirm(address, self.name, token)

    def _post(self, environ: WSGIEnvironment) -> tuple[str, bytes]:
        try:
            form = _form(environ)
        except ValueError as exc:
            status = "413 Content Too Large" if "too large" in str(exc) else "400 Bad Request"
            return status, pages.error("Bad request", str(exc))
        token = _query(environ).get("token", "") or form.get("token", "")
        address = self._address(token)
        if address is None:
            return "400 Bad Request", pages.invalid()
        one_click = form.get("List-Unsubscribe") == ONE_CLICK
        source = "one-click (RFC 8058)" if one_click else "unsubscribe page"
        try:
            suppressions.add(self._db(), address, "unsubscribed", source, "via " + self.path)
        except sqlite3.Error:
            return "503 Service Unavailable", pages.error("Please try again", "We could not record this just now.")
        return "200 OK", pages.done(address, self.name)

    @staticmethod
    def _headers(content_type: str, length: int) -> list[tuple[str, str]]:
        return [
            ("Content-Type", content_type),
            ("Content-Length", str(length)),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", pages.content_security_policy()),
        ]

    def _html(self, start_response: StartResponse, status: str, body: bytes,
              extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        start_response(status, self._headers("text/html; charset=utf-8", len(body)) + (extra or []))
        return [body]

    def _plain(self, start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
        start_response(status, self._headers("text/plain; charset=utf-8", len(body)))
        return [body]


def _query(environ: WSGIEnvironment) -> dict[str, str]:
    parsed = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=10)
    return {k: v[0] for k, v in parsed.items()}


def _form(environ: WSGIEnvironment) -> dict[str, str]:
    """The POST body as fields: urlencoded, or multipart/form-data (RFC 8058's own example)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ValueError("bad Content-Length") from None
    if length > MAX_BODY:
        raise ValueError("request body too large")
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.lower().startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload.decode("utf-8", "replace").strip()
        return fields
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the form could not be read") from None
    return {k: v[0] for k, v in parsed.items()}


def make_app(settings: Settings) -> UnsubscribeApp:
    """The WSGI application for these settings (any WSGI server can run it)."""
    return UnsubscribeApp(settings)
