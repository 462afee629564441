"""The signup confirmation email: rendered once at start-up, personalised and sent per signup.

`templates/confirm.mjml.j2` and `templates/confirm.txt.j2` (the project's own, beside the
newsletter's) are rendered through the same Jinja -> MJML -> premailer path as an issue, once
for a new signup and once for someone already subscribed, with placeholders where the
greeting and the link go (and once more for a fresh preference link asked for on the page of an
expired one). It is sent through the configured relay (SMTP_HOST / SMTP_URLS),
else written to the outbox folder, like an issue.

The welcome email (`templates/welcome.mjml.j2` and `welcome.txt.j2`) goes the same way, once,
when a signup is confirmed: the preference link and the newest sent issue in the web archive
(a second variant for a list that has sent nothing yet). NEWSLETTER_WELCOME=off stops it, and
then its templates are not read.
"""

from __future__ import annotations

import asyncio
import secrets
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path
from types import SimpleNamespace

from markupsafe import escape

from newsletter.content.render import Renderer, compile_mjml
from newsletter.delivery.base import DeliveryOutcome
from newsletter.delivery.outbox import Outbox
from newsletter.delivery.relays import SmtpSettings, smtp_settings
from newsletter.delivery.smtp import SmtpBackend
from newsletter.errors import ConfigError, NewsletterError, RenderError
from newsletter.gates.headers import fold
from newsletter.mail.message import GREETING_FALLBACK, OutgoingMessage
from newsletter.settings import Settings

PLACEHOLDERS = {"greeting": "NLPHxGREETINGx7Q", "link_url": "NLPHxLINKx7Q", "latest_url": "NLPHxLATESTx7Q"}
# (already_subscribed, new_link): a confirmation; "you are already subscribed" with the
# preference link; a fresh preference link asked for from an expired one.
VARIANTS = ((False, False), (True, False), (True, True))
SUBJECTS = {
    (False, False): "Please confirm your subscription",
    (True, False): "You are already subscribed",
    (True, True): "Your new preferences link",
}
WELCOME_SUBJECT = "Welcome"
HINTS = {
    "confirm": "newsletter serve renders the signup confirmation email from "
    "templates/confirm.mjml.j2 and confirm.txt.j2 (shipped with the project)",
    "welcome": "newsletter serve renders the welcome email from templates/welcome.mjml.j2 and "
    "welcome.txt.j2 (newsletter init ships them: copy them from a new project), "
    "or set NEWSLETTER_WELCOME=off",
}


class MailNotSent(NewsletterError):
    """The confirmation could not be handed to the relay or written to the outbox."""


class ConfirmationMail:
    """The two rendered variants (new signup, already subscribed) and how to send them."""

    def __init__(
        self,
        settings: Settings,
        templates: Path,
        outbox: Path,
        *,
        list_name: str,
        expiry_days: int,
        privacy_url: str,
        welcome: bool = False,
    ) -> None:
        self.settings = settings
        self.list_name = list_name
        site = SimpleNamespace(
            representative=settings.representative,
            constituency=settings.constituency,
            website=settings.website,
            postal_address=settings.postal_address,
            privacy_url=privacy_url,
        )
        renderer = Renderer(templates)
        base: dict[str, object] = {"site": site, "list_name": list_name, "recipient": SimpleNamespace(**PLACEHOLDERS)}
        self.variants: dict[tuple[bool, bool], tuple[str, str]] = {}
        for already, new_link in VARIANTS:
            context = {**base, "expiry_days": expiry_days, "already_subscribed": already, "new_link": new_link}
            self.variants[already, new_link] = _render(renderer, "confirm", context)
        # (has_latest): the welcome with the newest issue's link, and for a list that sent none yet.
        self.welcomes: dict[bool, tuple[str, str]] = {}
        if welcome:
            self.welcomes = {
                latest: _render(renderer, "welcome", {**base, "has_latest": latest}) for latest in (True, False)
            }
        self.smtp: SmtpSettings | None = smtp_settings(settings.env)
        # A confirmation email carries no List-Id; every other outward value must be real.
        example = [found for found in settings.example_values_in_use() if not found.startswith("NEWSLETTER_LIST_ID")]
        if self.smtp is not None and example:
            raise ConfigError(
                f"refusing to send confirmation emails: {'; '.join(example)}",
                hint="set real values in .env (see .env.example)",
            )
        self.outbox = Outbox(outbox)
        self.welcome_outbox = Outbox(outbox.parent / "welcome")  # never over a confirmation's file

    def describe(self) -> str:
        return self.smtp.describe() if self.smtp is not None else self.outbox.describe()

    def build(
        self, address: str, first_name: str, link: str, *, already_subscribed: bool, new_link: bool = False
    ) -> OutgoingMessage:
        """One confirmation message (a signup is rare: an EmailMessage per message is fine here);
        `new_link` with `already_subscribed`: the fresh preference link asked for on an expired one.

        The greeting never carries the name: anyone can type any address and any "name" into
        the form, and a name in the mail would let them send their text to a stranger through
        the office's relay (listmonk #1133). `first_name` is kept for the callers' sake."""
        del first_name
        variant = (already_subscribed, new_link and already_subscribed)
        html, text = self.variants[variant]
        return self._message(address, SUBJECTS[variant], html, text, {"link_url": link}, "confirm")

    def welcome(self, address: str, preferences: str, latest: str) -> OutgoingMessage:
        """The welcome for a signup just confirmed: `preferences` is their preference link,
        `latest` the newest sent issue's page in the archive ("" when none has been sent)."""
        html, text = self.welcomes[bool(latest)]
        return self._message(
            address, WELCOME_SUBJECT, html, text, {"link_url": preferences, "latest_url": latest}, "welcome"
        )

    @property
    def welcomes_on(self) -> bool:
        return bool(self.welcomes)

    def _message(
        self, address: str, subject: str, html: str, text: str, links: dict[str, str], kind: str
    ) -> OutgoingMessage:
        """One message (a signup is rare: an EmailMessage per message is fine here), the greeting
        and `links` spliced into the rendered parts."""
        for name, value in (("greeting", GREETING_FALLBACK), *links.items()):
            html = html.replace(PLACEHOLDERS[name], str(escape(value)))
            text = text.replace(PLACEHOLDERS[name], value)
        message = EmailMessage(policy=SMTP)
        # The header gate folds the headers that carry data (the stdlib's folder drops the
        # quotes of a long display name it splits, making one From read as several addresses).
        headers = b"".join(
            [
                fold("From", self.settings.from_header),
                fold("To", address),
                fold("Reply-To", self.settings.reply_to),
                fold("Subject", f"{subject}: {self.list_name}"),
            ]
        )
        message["Date"] = formatdate(usegmt=True)
        message_id = f"<{kind}.{secrets.token_hex(10)}@{self.settings.sender_domain}>"
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        return OutgoingMessage(address, message_id, headers + message.as_bytes())

    def send(self, message: OutgoingMessage, *, welcome: bool = False) -> str:
        """Deliver one message now; raises MailNotSent naming the relay or the folder."""
        try:
            if self.smtp is None:
                return (self.welcome_outbox if welcome else self.outbox).write(message)
            return asyncio.run(self._smtp(message, self.smtp))
        except (DeliveryOutcome, NewsletterError) as exc:
            raise MailNotSent(str(exc)) from exc

    async def _smtp(self, message: OutgoingMessage, smtp: SmtpSettings) -> str:
        backend = SmtpBackend(smtp, self.settings.from_address)
        session = await backend.open()
        try:
            return await session.deliver(message, _nothing)
        finally:
            await session.close()


async def _nothing() -> None:
    return None


def _render(renderer: Renderer, name: str, context: dict[str, object]) -> tuple[str, str]:
    """The HTML and text of `name`.mjml.j2 and `name`.txt.j2, with placeholders left in."""
    try:
        source = renderer.render_template(f"{name}.mjml.j2", context, html=True)
        html = compile_mjml(source, renderer.templates / f"{name}.mjml.j2")
        text = renderer.render_template(f"{name}.txt.j2", context, html=False).strip("\n") + "\n"
    except RenderError as exc:
        raise RenderError(str(exc), hint=HINTS[name]) from exc
    return html, text
