"""One issue from YAML to a message factory: the path every command shares.

`build`, `check`, `send` and the preview all go through `compose`, so what staff preview
is exactly what constituents get.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.audience import Subscriber
from newsletter.issue import Issue, load_issue
from newsletter.message import MessageFactory
from newsletter.render import RenderedIssue, Renderer
from newsletter.settings import Settings


@dataclass(frozen=True)
class Composed:
    """An issue, rendered once, and the factory that personalises it."""

    issue: Issue
    rendered: RenderedIssue
    factory: MessageFactory
    settings: Settings

    def values_for(self, subscriber: Subscriber) -> dict[str, str]:
        """The per-recipient values, as `message.py` splices them into the wire bytes."""
        return {
            "greeting": self.factory.greeting(subscriber),
            "email": subscriber.email,
            "unsubscribe_url": self.factory.unsubscribe_url(subscriber.email),
            "preferences_url": self.factory.preferences_url(subscriber.email),
        }

    def web_values(self) -> dict[str, str]:
        """Values for the public web copy: no reader's name, address or token in it."""
        mailto = f"mailto:{self.settings.unsubscribe_mailto}?subject=unsubscribe"
        return {
            "greeting": self.factory.greeting(Subscriber(email="")),
            "email": "your address",
            "unsubscribe_url": mailto,
            "preferences_url": self.settings.preferences_url,  # without a token: the page explains
        }

    def personalise(self, subscriber: Subscriber) -> tuple[str, str]:
        """(html, text) for one subscriber: for previews and checks, not for sending."""
        return self.rendered.personalise(self.values_for(subscriber))


def compose(issue_path: Path, settings: Settings, renderer: Renderer | None = None) -> Composed:
    """Load, validate and render an issue; build its message factory."""
    issue = load_issue(issue_path)
    renderer = renderer or Renderer(issue.project.templates_dir)
    rendered = renderer.render(issue, settings)
    return Composed(issue, rendered, MessageFactory(rendered, settings), settings)
