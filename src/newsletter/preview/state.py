"""What the preview shows: one rebuild of the issue, and the real message it makes per reader.

A rebuild goes through `compose` and `run_checks`, the path `send` and `check` take; each reader's
message is `factory.build(subscriber)`, the exact bytes a send hands to delivery, parsed back
with the stdlib email parser. So the page shows what is sent, not a second rendering of it.
"""

from __future__ import annotations

import email.policy
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from newsletter.audience.people import Subscriber
from newsletter.checks.findings import Finding
from newsletter.checks.preflight import SIZE_ERROR, run_checks
from newsletter.content.issue import MissingArticles, Project
from newsletter.content.render import Renderer
from newsletter.errors import NewsletterError
from newsletter.mail.compose import Composed, compose
from newsletter.settings import load_settings, read_environment

GMAIL_CLIP_BYTES = SIZE_ERROR


@dataclass(frozen=True)
class MessageView:
    """One reader's message as sent, taken apart for display."""

    headers: tuple[tuple[str, str], ...]
    text: str
    html: bytes
    html_bytes: int
    message_bytes: int
    raw: bytes


@dataclass(frozen=True)
class Problem:
    """Why a rebuild failed: an expected input error (file:line in the message) or a bug."""

    kind: str  # "input" or "unexpected"
    title: str
    lines: tuple[str, ...]
    detail: str = ""


@dataclass
class Snapshot:
    """The outcome of one rebuild; `composed` is None when it failed."""

    version: int
    built_at: float
    elapsed_ms: float
    composed: Composed | None = None
    findings: tuple[Finding, ...] = ()
    problem: Problem | None = None
    _views: dict[str, MessageView] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def view(self, subscriber: Subscriber) -> MessageView:
        """The reader's message, built once per rebuild: the page's headers, text and iframe
        then all describe the same bytes (the Message-ID differs on every build)."""
        if self.composed is None:
            raise RuntimeError("no message: the last rebuild failed")
        key = subscriber.email.lower()
        with self._lock:
            cached = self._views.get(key)
            if cached is None:
                cached = parse_message(self.composed.factory.build(subscriber).data)
                self._views[key] = cached
            return cached


def parse_message(data: bytes) -> MessageView:
    """Take wire bytes apart the way a mail client would."""
    message = BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if isinstance(text_part, EmailMessage) else ""
    html = b""
    if isinstance(html_part, EmailMessage):
        payload = html_part.get_payload(decode=True)
        html = payload if isinstance(payload, bytes) else b""
    headers = tuple((name, str(value)) for name, value in message.items())
    return MessageView(headers, str(text), html, len(html), len(data), data)


class Rebuilder:
    """Rebuilds one issue from disk; keeps one Renderer so Jinja reuses compiled templates
    (its loader reloads any template whose file changed)."""

    def __init__(self, issue_path: Path, env_path: Path) -> None:
        self.issue_path = issue_path
        self.env_path = env_path
        self._cached: Renderer | None = None

    def rebuild(self, version: int, reader: Subscriber | None = None) -> Snapshot:
        """Compose, check and (for `reader`) build the message, as on every save.

        Never raises: a failure becomes a Snapshot with a Problem the page shows.
        """
        started = time.perf_counter()
        try:
            settings = load_settings(read_environment(self.env_path))
            composed = compose(self.issue_path, settings, self._renderer())
            snapshot = Snapshot(version, time.time(), 0.0, composed, tuple(run_checks(composed)))
            if reader is not None:
                snapshot.view(reader)
        except MissingArticles as exc:
            problem = Problem("input", "Articles not found", tuple(message for _slug, message in exc.missing))
        except NewsletterError as exc:
            hint = (f"hint: {exc.hint}",) if exc.hint else ()
            problem = Problem("input", "The issue cannot be built", (str(exc), *hint))
        except Exception as exc:
            problem = Problem(
                "unexpected",
                "Unexpected error while rebuilding (a bug: please report it)",
                (f"{type(exc).__name__}: {exc}",),
                "".join(traceback.format_exception(exc)),
            )
        else:
            snapshot.elapsed_ms = (time.perf_counter() - started) * 1000
            return snapshot
        elapsed = (time.perf_counter() - started) * 1000
        return Snapshot(version, time.time(), elapsed, problem=problem)

    def _renderer(self) -> Renderer:
        templates = Project.of_issue(self.issue_path).templates_dir
        if self._cached is None or self._cached.templates != templates:
            self._cached = Renderer(templates)
        return self._cached
