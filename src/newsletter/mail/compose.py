"""One issue from YAML to a message factory: the path every command shares.

`build`, `check`, `send` and the preview all go through `compose`, so what staff preview
is exactly what constituents get. An issue with ward editions is rendered once per edition
(editions.py); the factory hands each reader to their edition's pre-encoded parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.people import Subscriber
from newsletter.content.editions import Edition, edition_named, editions, ward_key
from newsletter.content.issue import Issue, load_issue
from newsletter.content.render import RenderedIssue, Renderer
from newsletter.mail.dkim import DkimSettings, dkim_settings
from newsletter.mail.message import MessageFactory, OutgoingMessage
from newsletter.settings import Settings


@dataclass(frozen=True)
class ComposedEdition:
    """One edition, rendered once, with its own factory."""

    edition: Edition
    rendered: RenderedIssue
    factory: MessageFactory


class EditionFactory(MessageFactory):
    """The factory of the edition for everyone, which hands a reader in a ward edition to that
    edition's factory. Per recipient this costs one dict lookup on the ward as the list spells it."""

    def __init__(
        self,
        everyone: RenderedIssue,
        settings: Settings,
        ward_editions: list[ComposedEdition],
        *,
        dkim: DkimSettings | None = None,
    ) -> None:
        super().__init__(everyone, settings, dkim=dkim)
        self._by_ward = {ward_key(w): e.factory for e in ward_editions for w in e.edition.wards}
        self._route: dict[str, MessageFactory | None] = {}

    def for_ward(self, ward: str) -> MessageFactory:
        """The factory whose edition a reader in `ward` gets."""
        if not self._by_ward:
            return self
        try:
            routed = self._route[ward]
        except KeyError:
            routed = self._route[ward] = self._by_ward.get(ward_key(ward))
        return self if routed is None else routed

    def build(self, subscriber: Subscriber, *, wire: bool = False) -> OutgoingMessage:
        factory = self.for_ward(subscriber.ward)
        if factory is self:
            return MessageFactory.build(self, subscriber, wire=wire)
        return factory.build(subscriber, wire=wire)


@dataclass(frozen=True)
class Composed:
    """An issue, rendered once per edition, and the factory that personalises it.

    `rendered` is the edition for everyone (the public web copy); `editions` holds every
    edition, that one first.
    """

    issue: Issue
    rendered: RenderedIssue
    factory: EditionFactory
    settings: Settings
    editions: tuple[ComposedEdition, ...] = ()

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
        """(html, text) for one subscriber, in their edition: for previews and checks, not for sending."""
        return self.edition_for(subscriber.ward).rendered.personalise(self.values_for(subscriber))

    def edition_named(self, name: str) -> ComposedEdition:
        """The edition `--edition NAME` chooses for a test copy (see editions.edition_named)."""
        wanted = edition_named([e.edition for e in self.editions], name)
        return next(e for e in self.editions if e.edition is wanted)

    def edition_for(self, ward: str) -> ComposedEdition:
        factory = self.factory.for_ward(ward)
        return next((e for e in self.editions if e.factory is factory), self.editions[0])


def compose(issue_path: Path, settings: Settings, renderer: Renderer | None = None) -> Composed:
    """Load, validate and render an issue (once per edition); build its message factory."""
    issue = load_issue(issue_path)
    renderer = renderer or Renderer(issue.project.templates_dir)
    found = editions(issue)
    dkim = dkim_settings(settings.env, root=issue.project.root)
    everyone = renderer.render(found[0].issue, settings)
    wards = [
        ComposedEdition(e, rendered := renderer.render(e.issue, settings, e.file_stem),
                        MessageFactory(rendered, settings, e.key, dkim=dkim))
        for e in found[1:]
    ]  # fmt: skip
    factory = EditionFactory(everyone, settings, wards, dkim=dkim)
    return Composed(issue, everyone, factory, settings, (ComposedEdition(found[0], everyone, factory), *wards))
