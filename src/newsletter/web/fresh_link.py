"""An expired link is not a dead end: its page offers a button that emails a fresh one.

An expired token still names its address (it is signed; only its age is wrong), so the button
sends the token back and the new link goes to that address, never to one typed in. The answer
is the same page whatever the list holds, so nobody learns whether an address is on it (a
relay failure is logged and answered the same way too); the request counts against the same
per-client limit as a signup and the same per-address period (`sender.LinkSender`).
"""

from __future__ import annotations

import logging

from newsletter.audience.tokens import CONFIRM
from newsletter.web.http import Request, Response
from newsletter.web.mail import MailNotSent
from newsletter.web.pages import Pages, mask
from newsletter.web.sender import LinkSender

log = logging.getLogger("newsletter.web")
ACTION = "new-link"  # the value of the expired page's button


class FreshLink:
    """The expired page of one kind of link (CONFIRM or PREFERENCES), and its button."""

    def __init__(self, pages: Pages, sender: LinkSender, purpose: str, *, fallback: str) -> None:
        self.pages = pages
        self.sender = sender
        self.purpose = purpose
        self.fallback = fallback  # the other way, for someone who cannot use email just now
        web = sender.web
        self.days = (web.confirm_seconds if purpose == CONFIRM else web.preferences_seconds) // 86_400
        self.resend_minutes = web.resend_seconds // 60

    def expired(self, token: str, address: str) -> Response:
        """400, with the button that asks for a new link to `address` (the token's own)."""
        if self.purpose == CONFIRM:
            why = f"Confirmation links work for {self.days} days, and this one is too old."
            button = "Email me a new confirmation link"
        else:
            why = (
                f"This preferences link is from an old newsletter: links to your preferences work for {self.days} days."
            )
            button = "Email me a new link"
        page = self.pages.render(
            "expired.html",
            "This link has expired",
            why=why,
            masked=mask(address),
            token=token,
            action=ACTION,
            button=button,
            fallback=self.fallback,
        )
        return Response("400 Bad Request", page)

    def post(self, request: Request, address: str) -> Response:
        """Send the fresh link if the list calls for one; the same answer either way."""
        limited = self.sender.over_limit(request, "Too many requests", "requests for new links and sign-ups")
        if limited is not None:
            return limited
        try:
            self.sender.send(address, fresh=self.purpose)
        except MailNotSent as exc:  # answered as if sent: a different page would tell who is listed
            log.warning("fresh %s link not sent: %s", self.purpose, exc)
        if self.purpose == CONFIRM:
            sent = (
                f"If a signup from {mask(address)} is waiting to be confirmed, a new confirmation link is "
                f"on its way to that address. It works for {self.days} days."
            )
        else:
            sent = (
                f"If {mask(address)} is on the list, a new link to its preferences is on its way to that "
                f"address. It works for {self.days} days."
            )
        page = self.pages.message(
            "Check your inbox",
            sent,
            "If nothing arrives within a few minutes, look in your spam or junk folder. We send at most one "
            f"email to an address every {self.resend_minutes} minutes.",
        )
        return Response("200 OK", page)
