"""RenderedIssue + Subscriber -> wire bytes, cheaply: static parts are encoded once per issue.

Building an `EmailMessage` per recipient costs ~1,500 us (DESIGN.md). Here the headers that
never change are folded once, both bodies are split at the placeholders and quoted-printable
encoded once, and per recipient only the few short values are encoded and spliced in between
soft line breaks (`=CRLF`), which keeps every encoded line legal and decodes to nothing.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from email.utils import format_datetime
from urllib.parse import quote

from markupsafe import escape

from newsletter.audience.people import Subscriber
from newsletter.audience.tokens import PREFERENCES, make_link_token, make_token
from newsletter.content import flowed
from newsletter.content.render import PLACEHOLDER_RE, PLACEHOLDERS, RenderedIssue
from newsletter.gates.address import clean_name
from newsletter.gates.headers import address_header, fold
from newsletter.mail.dkim import DkimSettings, Signer, relaxed_body
from newsletter.settings import Settings

# The reader of `build`'s sample message and of the preflight: no real person.
SAMPLE = Subscriber(email="reader@example.org", first_name="Sample", last_name="Reader")

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
GREETING = "Dear {name}"
GREETING_FALLBACK = "Dear constituent"
_NAME_OF = {token: name for name, token in PLACEHOLDERS.items()}

__all__ = ["MessageFactory", "OutgoingMessage", "fold"]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One recipient's message, ready for any delivery backend. `wire` (when asked for) is the
    same message as SMTP's DATA carries it: dot-stuffed and ending in CRLF.CRLF."""

    recipient: str
    message_id: str
    data: bytes
    wire: bytes = b""
    edition: str = ""  # the ward edition's key ("" for everyone), recorded in the journal


def dot_stuff(part: bytes, *, line_start: bool = True) -> bytes:
    """RFC 5321 4.5.2 transparency for a piece of a message; `line_start` if a line begins
    at its first byte. Run once per issue on the static parts, and on the short values."""
    if b"\n." in part:
        part = part.replace(b"\n.", b"\n..")
    return b"." + part if line_start and part.startswith(b".") else part


def wire_form(data: bytes) -> bytes:
    """A whole message as SMTP's DATA carries it (for messages not made by the factory)."""
    return dot_stuff(data) + (b"" if data.endswith(CRLF) else CRLF) + b".\r\n"


def _qp(data: bytes) -> bytes:
    """Quoted-printable with CRLF line ends; the last line is kept short enough to add a soft
    break after it without passing RFC 2045's 76 characters."""
    encoded = binascii.b2a_qp(data, istext=True)
    if b"\r\n" not in data:  # b2a_qp uses CRLF soft breaks only when its input has CRLF
        encoded = encoded.replace(b"\n", CRLF)
    start = encoded.rfind(b"\n") + 1
    if len(encoded) - start > 74:
        cut = len(encoded) - 4
        while encoded[cut - 1 : cut] == b"=" or encoded[cut - 2 : cut - 1] == b"=":
            cut -= 1
        encoded = encoded[:cut] + SOFT_BREAK + encoded[cut:]
    return encoded


def _value(text: str) -> bytes:
    """A per-recipient value, encoded, ending in a soft break so the static text that follows
    starts a fresh line."""
    return _qp(text.encode()) + SOFT_BREAK


def _split_body(body: str) -> list[bytes | str]:
    """Split a body at its placeholders: encoded static bytes, and placeholder names between."""
    crlf = body.replace("\r\n", "\n").replace("\n", "\r\n")
    parts: list[bytes | str] = []
    position = 0
    for match in PLACEHOLDER_RE.finditer(crlf):
        parts.append(_qp(crlf[position : match.start()].encode()))
        parts.append(_NAME_OF[match.group()])
        position = match.end()
    parts.append(_qp(crlf[position:].encode()))
    # A soft break wherever a static part ends mid-line, so the value starts a fresh line.
    return [
        p + SOFT_BREAK if isinstance(p, bytes) and p and not p.endswith(CRLF) and i + 1 < len(parts) else p
        for i, p in enumerate(parts)
    ]


def _canonical(body: list[bytes | tuple[str, str]]) -> list[bytes | tuple[str, str]]:
    """The body in DKIM's relaxed form, once per issue: runs of static parts joined (a line may
    span two of them), then canonicalised; every run ends a line, so the per-recipient values
    between them can be canonicalised on their own."""
    merged: list[bytes | tuple[str, str]] = []
    for part in body:
        if isinstance(part, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += part
        else:
            merged.append(part)
    return [relaxed_body(p) if isinstance(p, bytes) else p for p in merged]


class MessageFactory:
    """Builds each recipient's message from one rendered issue."""

    def __init__(
        self, rendered: RenderedIssue, settings: Settings, edition: str = "", *, dkim: DkimSettings | None = None
    ) -> None:
        self.settings = settings
        self.edition = edition
        self.slug = rendered.issue.slug
        self.domain = settings.sender_domain
        digest = hashlib.sha256((rendered.subject + rendered.text + rendered.html).encode()).hexdigest()
        self.boundary = f"=_nl_{digest[:24]}"  # "=_" can never occur in quoted-printable text
        self.static_headers = b"".join(
            [
                fold("From", settings.from_header),
                fold("Reply-To", settings.reply_to),
                fold("Subject", rendered.subject),
                fold("List-Id", settings.list_id),
                b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                b"MIME-Version: 1.0\r\n",
                f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'.encode(),
                fold("X-Newsletter-Issue", self.slug),
                CRLF,
            ]
        )
        part = 'Content-Type: text/{}; charset="utf-8"{}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        open_text = f"--{self.boundary}\r\n{part.format('plain', flowed.CONTENT_TYPE_PARAMS)}".encode()
        open_html = f"\r\n--{self.boundary}\r\n{part.format('html', '')}".encode()
        close = f"\r\n--{self.boundary}--\r\n".encode()
        text_parts = [(p, "text") if isinstance(p, str) else p for p in _split_body(rendered.text)]
        html_parts = [(p, "html") if isinstance(p, str) else p for p in _split_body(rendered.html)]
        self.body: list[bytes | tuple[str, str]] = [open_text, *text_parts, open_html, *html_parts, close]
        # Every static part starts a line: it follows the blank line or a value's soft break.
        self.stuffed_body = [dot_stuff(p) if isinstance(p, bytes) else p for p in self.body]
        self.stuffed_headers = dot_stuff(self.static_headers)
        self.signer = Signer(dkim, self.static_headers) if dkim is not None else None
        self.canonical_body = _canonical(self.body)
        self._mailto = f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe%20"
        self._https = settings.unsubscribe_url + ("&" if "?" in settings.unsubscribe_url else "?") + "token="
        self._date = (0, b"")
        # One time for every preference link of this send, the link's age counted from it. Whole
        # UTC days: the expiry is in days, and the same issue built twice in a day (preview,
        # send) gives the same bytes.
        self.issued = int(time.time()) // 86_400 * 86_400
        self._preferences = settings.preferences_url + ("&" if "?" in settings.preferences_url else "?") + "token="

    def unsubscribe_url(self, address: str) -> str:
        token = make_token(address, self.settings.list_id, self.settings.unsubscribe_secret)
        return self._https + token

    def preferences_url(self, address: str) -> str:
        token = make_link_token(
            PREFERENCES, address, self.settings.list_id, self.settings.unsubscribe_secret, self.issued
        )
        return self._preferences + token

    def greeting(self, subscriber: Subscriber) -> str:
        first = clean_name(subscriber.first_name)
        return GREETING.format(name=first) if first else GREETING_FALLBACK

    def _date_header(self) -> bytes:
        now = int(time.time())
        if self._date[0] != now:
            # RFC 5322 section 3.3: a numeric zone; "GMT" is the obsolete form.
            stamp = format_datetime(dt.datetime.fromtimestamp(now, dt.UTC))
            self._date = (now, f"Date: {stamp}\r\n".encode())
        return self._date[1]

    def _to_header(self, subscriber: Subscriber) -> bytes:
        """Through the header gate: a name or address that cannot be a header raises
        HeaderError, and the send loop fails that one recipient with the reason."""
        return address_header("To", clean_name(subscriber.name), subscriber.email)

    def build(self, subscriber: Subscriber, *, wire: bool = False) -> OutgoingMessage:
        """The bytes for one subscriber (~tens of microseconds), and if `wire`, also as SMTP
        sends them (the static parts were dot-stuffed once, in __init__)."""
        address = subscriber.email
        token = make_token(address, self.settings.list_id, self.settings.unsubscribe_secret)
        https = self._https + token
        preferences = self.preferences_url(address)
        message_id = f"<{self.slug}.{secrets.token_hex(10)}@{self.domain}>"
        greeting = self.greeting(subscriber)
        values = {
            ("greeting", "text"): _value(greeting),
            ("greeting", "html"): _value(str(escape(greeting))),
            ("email", "text"): _value(address),
            ("email", "html"): _value(str(escape(address))),
            ("unsubscribe_url", "text"): _value(https),
            ("unsubscribe_url", "html"): _value(str(escape(https))),
            ("preferences_url", "text"): _value(preferences),
            ("preferences_url", "html"): _value(str(escape(preferences))),
        }
        headers = b"".join(
            [
                self._to_header(subscriber),
                self._date_header(),
                f"Message-ID: {message_id}\r\n".encode(),
                f"List-Unsubscribe: <{self._mailto}{quote(token)}>,\r\n <{https}>\r\n".encode(),
            ]
        )
        if self.signer is not None:
            canonical = {key: relaxed_body(value) for key, value in values.items()}
            body_hash = self.signer.body_hash(p if isinstance(p, bytes) else canonical[p] for p in self.canonical_body)
            headers = self.signer.header(headers, body_hash, int(time.time())) + headers
        data = b"".join([headers, self.static_headers, *(p if isinstance(p, bytes) else values[p] for p in self.body)])
        if not wire:
            return OutgoingMessage(address, message_id, data, edition=self.edition)
        stuffed = {key: dot_stuff(value) for key, value in values.items()}
        transfer = b"".join(
            [
                headers,
                self.stuffed_headers,
                *(p if isinstance(p, bytes) else stuffed[p] for p in self.stuffed_body),
                b".\r\n",
            ]
        )
        return OutgoingMessage(address, message_id, data, transfer, self.edition)
