"""The request and response of the web app: bounded parsing and the security headers.

Everything a client sends is read through here, with limits: the body size, the number of
fields, the length of each value. A request that breaks a limit raises `BadRequest`, which
the app turns into a 4xx page; nothing a client sends can reach a 500.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import multipart

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

MAX_BODY = 8 * 1024  # the one-click body is 26 bytes; the signup form a few hundred
MAX_FIELDS = 30  # the signup form with every topic ticked stays well below
MAX_VALUE = 2000  # characters kept of one field (a token is under 600)


class BadRequest(Exception):
    """The request cannot be read; `status` is the 4xx to answer."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    """One request, read once: method, path, query and form fields, the client's address."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    client: str
    user_agent: str

    def arg(self, name: str) -> str:
        """A field from the query string, else the form ("" when absent)."""
        values = self.query.get(name) or self.form.get(name) or [""]
        return values[0]

    def field(self, name: str) -> str:
        return (self.form.get(name) or [""])[0]

    def fields(self, name: str) -> list[str]:
        return self.form.get(name, [])


@dataclass
class Response:
    status: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    extra: list[tuple[str, str]] = field(default_factory=list)


def _clip(parsed: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k[:100]: [v[:MAX_VALUE] for v in values] for k, values in parsed.items()}


def parse_query(raw: str) -> dict[str, list[str]]:
    try:
        return _clip(parse_qs(raw, max_num_fields=MAX_FIELDS))
    except ValueError:
        raise BadRequest("400 Bad Request", "The address has too many parts.") from None


def read_form(environ: WSGIEnvironment) -> dict[str, list[str]]:
    """The POST body as fields: urlencoded, or multipart/form-data (RFC 8058's own example)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("400 Bad Request", "bad Content-Length") from None
    if length > MAX_BODY:
        raise BadRequest("413 Content Too Large", "request body too large")
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if content_type.lower().startswith("multipart/form-data"):
        return _multipart(content_type, body)
    try:
        return _clip(parse_qs(body.decode("utf-8"), max_num_fields=MAX_FIELDS))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("400 Bad Request", "the form could not be read") from None


def _multipart(content_type: str, body: bytes) -> dict[str, list[str]]:
    """multipart/form-data read by the `multipart` package (RFC 7578, strict): a body it cannot
    read whole, more than MAX_FIELDS parts, or a file upload (no form here takes one) is a 400."""
    unreadable = BadRequest("400 Bad Request", "the form could not be read")
    boundary = multipart.parse_options_header(content_type)[1].get("boundary", "")
    if not boundary or len(boundary) > 70 or any(c in boundary for c in "\r\n"):
        raise unreadable
    parser = multipart.MultipartParser(
        io.BytesIO(body),
        boundary,
        len(body),
        strict=True,
        part_limit=MAX_FIELDS,
        memory_limit=MAX_BODY,
        spool_limit=MAX_BODY,
        disk_limit=0,  # never a temporary file
    )
    fields: dict[str, list[str]] = {}
    try:
        for part in parser:
            if part.filename is not None:
                raise unreadable
            fields.setdefault(part.name[:100], []).append(part.value.strip()[:MAX_VALUE])
    except (multipart.MultipartError, UnicodeDecodeError, LookupError):
        raise unreadable from None
    return fields


def read_request(environ: WSGIEnvironment) -> Request:
    """Read the request line and, for a POST, the body (bounded)."""
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    path = str(environ.get("PATH_INFO") or "/").rstrip("/") or "/"
    query = parse_query(str(environ.get("QUERY_STRING", "")))
    form = read_form(environ) if method == "POST" else {}
    client = str(environ.get("REMOTE_ADDR", ""))[:64]
    user_agent = str(environ.get("HTTP_USER_AGENT", ""))[:300]
    return Request(method, path, query, form, client, user_agent)


def security_headers(content_type: str, length: int, csp: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", content_type),
        ("Content-Length", str(length)),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", csp),
    ]
