""" "Email me my preferences link": for someone who lost every newsletter with the link in it.

The answer is the same page whether or not the address is on the list (so the form tells no
one who subscribes), and the request goes through the signup's limits (`sender.LinkSender`):
NEWSLETTER_SIGNUP_PER_IP per client an hour, one email per address per resend period, none to
a suppressed address. A subscribed address gets its preference link; a pending one nothing new
(its confirmation email has the way in); anyone else nothing.
"""

from __future__ import annotations

import logging

from newsletter.audience.tokens import PREFERENCES
from newsletter.gates.address import check_address
from newsletter.web.http import Request, Response
from newsletter.web.mail import MailNotSent
from newsletter.web.pages import Pages
from newsletter.web.sender import LinkSender

ACTION = "email-link"
log = logging.getLogger("newsletter.web")


class LostLink:
    def __init__(self, pages: Pages, sender: LinkSender) -> None:
        self.pages = pages
        self.sender = sender

    def form(self, status: str = "200 OK", email: str = "", error: str = "") -> Response:
        page = self.pages.render("lost_link.html", "Manage your preferences", email=email, error=error, action=ACTION)
        return Response(status, page)

    def post(self, request: Request) -> Response:
        limited = self.sender.over_limit(request, "Too many requests", "requests")
        if limited is not None:
            return limited
        typed = request.field("email").strip()
        try:
            address = check_address(typed)
        except ValueError:
            return self.form("400 Bad Request", typed[:254], "Enter an email address like name@example.org")
        try:
            self.sender.send(address, fresh=PREFERENCES)
        except MailNotSent as exc:
            log.warning("preferences link not sent: %s", exc)
            page = self.pages.message(
                "Please try again", "We could not send the email just now. Please try again later."
            )
            return Response("503 Service Unavailable", page, extra=[("Retry-After", "120")])
        page = self.pages.message(
            "Check your inbox",
            "If this address is on the list, we have emailed it a link to its preferences. "
            "If nothing arrives within a few minutes, look in your spam or junk folder.",
        )
        return Response("200 OK", page)
