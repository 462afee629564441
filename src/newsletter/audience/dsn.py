"""Read one incoming message as a bounce, a complaint, an unsubscribe request or none of these.

Shapes understood:
- RFC 3464 `multipart/report; report-type=delivery-status` (Postfix, Exim 4, Microsoft 365,
  Gmail): per-recipient `Final-Recipient`/`Original-Recipient`, `Action`, `Status`,
  `Diagnostic-Code`; the original message in a `message/rfc822` or `text/rfc822-headers` part.
- RFC 5965 `multipart/report; report-type=feedback-report` (ARF complaints).
- The common non-standard shape: a plain-text notice with `X-Failed-Recipients` and the
  original headers pasted below a marker line (older Exim, many appliances).
- A request to the `mailto:` of List-Unsubscribe: subject `unsubscribe TOKEN`.
The original Message-ID (what the journal recorded) comes from the returned message, Gmail's
`X-Original-Message-ID`, or the notice's In-Reply-To/References.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

HARD = "hard"
SOFT = "soft"
COMPLAINT = "complaint"
UNSUBSCRIBE = "unsubscribe"

# Enhanced status codes (RFC 3463), not the tail of an IP address like 10.4.5.6.
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# A basic SMTP reply code where a server's reply starts: after "said:", "smtp;", or a line start.
_SMTP_REPLY = re.compile(r"(?:^|[:;]\s*)([45])\d\d[ -]", re.MULTILINE)
_MSGID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
_ORIGINAL_MARKERS = re.compile(
    r"^-+ ?(This is a copy of the message, including all the headers|Original message|"
    r"Message header follows|The header of the original message is following)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a message says about one recipient."""

    kind: str  # hard | soft | complaint | unsubscribe
    email: str  # as reported; may be empty when only the Message-ID is known
    status: str = ""
    detail: str = ""
    original_id: str = ""
    issue: str = ""


def _addr(value: str | None) -> str:
    """`rfc822; someone@example.org` (RFC 3464 address-type; value) -> the address."""
    if not value:
        return ""
    text = value.split(";", 1)[1] if ";" in value else value
    return parseaddr(text.strip())[1] or text.strip().strip("<>")


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return payload.decode(part.get_content_charset() or "utf-8", "replace")


def _kind_of(status: str, action: str, diagnostic: str) -> str | None:
    action = action.lower()
    if action in ("delivered", "relayed", "expanded"):
        return None
    match = _STATUS.search(status) or _STATUS.search(diagnostic)
    if match:
        return {"5": HARD, "4": SOFT}.get(match.group(1))
    reply = _SMTP_REPLY.search(diagnostic)
    if reply:
        return HARD if reply.group(1) == "5" else SOFT
    return SOFT if action == "delayed" else HARD if action == "failed" else None


def _original_headers(message: Message) -> Message | None:
    """The returned message (or just its headers) from a report."""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        elif ctype == "text/rfc822-headers":
            return HeaderParser().parsestr(_text(part).lstrip())
    return None


def _pasted_headers(body: str) -> Message | None:
    """Headers pasted as text below a marker line (the non-standard shape)."""
    marker = _ORIGINAL_MARKERS.search(body)
    if not marker:
        return None
    rest = body[marker.end() :].split("\n", 1)[-1].lstrip("\n")
    return HeaderParser().parsestr(rest)


def _original_id(message: Message, original: Message | None, fields: list[Message]) -> str:
    if original is not None and original.get("Message-ID"):
        found = _MSGID.search(str(original["Message-ID"]))
        if found:
            return found.group()
    for block in fields:
        if block.get("X-Original-Message-ID"):
            found = _MSGID.search(str(block["X-Original-Message-ID"]))
            if found:
                return found.group()
    for header in ("In-Reply-To", "References"):
        found = _MSGID.search(str(message.get(header, "")))
        if found:
            return found.group()
    return ""


def _issue_of(original: Message | None) -> str:
    return str(original.get("X-Newsletter-Issue", "")).strip() if original is not None else ""


def _report_fields(message: Message) -> list[Message]:
    """The field blocks of a `message/delivery-status` part (per-message block first)."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return [block for block in payload if isinstance(block, Message)]
    return []


def _from_report(message: Message) -> list[Finding]:
    fields = _report_fields(message)
    original = _original_headers(message)
    original_id = _original_id(message, original, fields)
    issue = _issue_of(original)
    findings = []
    for block in fields:
        recipient = _addr(block.get("Final-Recipient")) or _addr(block.get("Original-Recipient"))
        if not recipient:
            continue  # the per-message block
        status = str(block.get("Status", "")).strip()
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        kind = _kind_of(status, str(block.get("Action", "")), diagnostic)
        if kind is not None:
            original_recipient = _addr(block.get("Original-Recipient")) or recipient
            findings.append(Finding(kind, original_recipient, status, diagnostic, original_id, issue))
    return findings


def _from_feedback(message: Message) -> list[Finding]:
    original = _original_headers(message)
    fields = _report_fields(message)
    original_id = _original_id(message, original, fields)
    email = ""
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            report = HeaderParser().parsestr(_text(part).lstrip())
            email = _addr(report.get("Original-Rcpt-To"))
    if not email and original is not None:
        email = parseaddr(str(original.get("To", "")))[1]
    return [Finding(COMPLAINT, email, "", "abuse report (ARF)", original_id, _issue_of(original))]


def _plain_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return _text(part)
    return ""


def _from_plain_notice(message: Message) -> list[Finding]:
    failed = [a for _, a in getaddresses([str(v) for v in message.get_all("X-Failed-Recipients", [])]) if a]
    if not failed:
        return []
    body = _plain_body(message)
    original = _original_headers(message) or _pasted_headers(body)
    original_id = _original_id(message, original, [])
    notice = body[: m.start()] if (m := _ORIGINAL_MARKERS.search(body)) else body
    temporary = re.search(r"temporary error|delayed|will be retried|still being retried", notice, re.I)
    kind = SOFT if temporary else _kind_of("", "failed", notice) or HARD
    replies = [line.strip() for line in notice.splitlines() if _SMTP_REPLY.search(line) or _STATUS.search(line)]
    code = _STATUS.search(notice) or _SMTP_REPLY.search(notice)
    status = code.group().strip(":; \n") if code else ""
    return [Finding(kind, a, status, " ".join(replies)[:300], original_id, _issue_of(original)) for a in failed]


def _unsubscribe_token(message: Message, mailto: str) -> tuple[bool, str]:
    """(addressed to the mailto and asks to unsubscribe, the token if any)."""
    recipients = [
        a.lower()
        for _, a in getaddresses([str(v) for v in message.get_all("To", []) + message.get_all("Delivered-To", [])])
    ]
    if mailto.lower() not in recipients:
        return False, ""
    subject = " ".join(str(message.get("Subject", "")).split())
    words = subject.split(" ")
    if not words or words[0].lower() != "unsubscribe":
        return False, ""
    return True, words[1] if len(words) > 1 else ""


def classify(message: Message, mailto: str) -> tuple[list[Finding], str]:
    """What a message says, and for unsubscribe requests the token to verify (may be empty)."""
    ctype = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    if ctype == "multipart/report" and report_type == "feedback-report":
        return _from_feedback(message), ""
    if ctype == "multipart/report" or _report_fields(message):
        findings = _from_report(message)
        if findings:
            return findings, ""
    findings = _from_plain_notice(message)
    if findings:
        return findings, ""
    wants, token = _unsubscribe_token(message, mailto)
    if wants:
        # Only a From of exactly one address names who asked; two addresses name nobody.
        senders = [a for _, a in getaddresses([str(v) for v in message.get_all("From", [])]) if a]
        sender = senders[0] if len(senders) == 1 else ""
        return [Finding(UNSUBSCRIBE, sender, "", "mailto request")], token
    return [], ""
