"""Signup with double opt-in: the form, "check your inbox", and the confirmation page.

- `POST /subscribe` stores a pending subscriber and the evidence (IP, user agent, form,
  consent version and the exact wording shown), commits, then sends the confirmation email.
  The answer is the same page whether or not the address was already listed; someone
  already subscribed gets an email saying so, with their preference link.
- Abuse: a honeypot field (a filled one gets the same page and nothing is stored), at most
  NEWSLETTER_SIGNUP_PER_IP signups per client address an hour (429, counted in the database
  so a restart forgets nothing), and at most one email per address every
  NEWSLETTER_SIGNUP_RESEND_MINUTES, however many signups arrive (`sender.py`); and once
  NEWSLETTER_SIGNUP_MAILS_PER_HOUR signup emails have left in the last hour, a proof of work
  solved by the page's script before anyone is emailed (`guard.py`), checked before the signup
  is counted or stored, so a flood without it costs one read and writes nothing.
- The confirmation link opens a page with a button: a GET (a mail scanner, a preview)
  confirms nobody; the button's POST does. An expired one offers to email a new one. The
  request that confirms sends the welcome email (`sender.LinkSender.welcome`); a relay that is
  down then is logged, and the person is subscribed all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from newsletter.audience.tokens import CONFIRM
from newsletter.store import Connection
from newsletter.store import subscribers as store
from newsletter.store.consent import Evidence
from newsletter.web.config import WebSettings
from newsletter.web.forms import SignupForm, read_signup
from newsletter.web.fresh_link import ACTION, FreshLink
from newsletter.web.guard import FIELDS
from newsletter.web.http import Request, Response
from newsletter.web.links import Links
from newsletter.web.mail import MailNotSent
from newsletter.web.pages import Pages, mask
from newsletter.web.sender import LinkSender

log = logging.getLogger("newsletter.web")
BUSY = (
    "Sign-ups are very busy just now, and this form could not check that you are a person (it needs "
    "JavaScript for that). Please try again later, or contact the office: the details are at the "
    "bottom of this page."
)


class Signup:
    """`GET/POST /subscribe`."""

    def __init__(
        self, pages: Pages, db: Callable[[], Connection], web: WebSettings, sender: LinkSender, list_name: str
    ) -> None:
        self.pages = pages
        self.db = db
        self.web = web
        self.sender = sender
        self.list_name = list_name

    def _form(self, status: str, form: SignupForm, *, guarded: bool) -> Response:
        page = self.pages.render(
            "subscribe.html",
            "Sign up for the newsletter",
            list_name=self.list_name,
            values=form.values(),
            errors=form.errors,
            wards=self.web.wards,
            topics=self.web.topics,
            statement=self.web.consent_statement,
            version=self.web.consent_version,
            action=self.web.subscribe_path,
            guard=self.sender.guard.challenge() if guarded else None,
        )
        return Response(status, page)

    def get(self, request: Request) -> Response:
        return self._form("200 OK", SignupForm(), guarded=self.sender.guard.active(self.db()))

    def _check_inbox(self) -> Response:
        page = self.pages.render("check_inbox.html", "Check your inbox", expiry_days=self.web.confirm_seconds // 86_400)
        return Response("200 OK", page)

    def post(self, request: Request) -> Response:
        if request.field("website"):
            return self._check_inbox()  # a bot filled the hidden field: look the same, do nothing
        guard, db = self.sender.guard, self.db()
        guarded = guard.active(db)
        if guarded and not guard.accept(db, {name: request.field(name) for name in FIELDS}):
            form = read_signup(request, self.web)
            return self._form("400 Bad Request", replace(form, errors={"guard": BUSY}), guarded=True)
        limited = self.sender.over_limit(request)
        if limited is not None:
            return limited
        form = read_signup(request, self.web)
        if form.errors:
            return self._form("400 Bad Request", form, guarded=guarded)
        detail = f"form: {form.form}; consent statement version {self.web.consent_version}"
        if form.consent_version and form.consent_version != self.web.consent_version:
            detail += f" (the form sent version {form.consent_version})"
        evidence = Evidence("web-form", detail, self.web.consent_statement, request.client, request.user_agent)
        d = form.details
        record = store.add_pending(self.db(), form.email, d.first_name, d.last_name, d.ward, d.topics, evidence)
        try:
            self.sender.send(record.email)
        except MailNotSent as exc:
            log.warning("confirmation email not sent: %s", exc)
            page = self.pages.message(
                "Please try again",
                "We could not send the confirmation email just now. Please try again in a few minutes.",
            )
            return Response("503 Service Unavailable", page, extra=[("Retry-After", "120")])
        return self._check_inbox()


class Confirm:
    """The confirmation link: GET shows a button, POST confirms; an expired link's page offers
    a new one (`fresh_link.py`)."""

    def __init__(
        self, pages: Pages, db: Callable[[], Connection], links: Links, list_name: str, sender: LinkSender
    ) -> None:
        self.pages = pages
        self.db = db
        self.links = links
        self.list_name = list_name
        self.subscribe_url = sender.web.subscribe_url
        self.sender = sender
        self.fresh = FreshLink(pages, sender, CONFIRM, fallback=f"Or sign up again at {self.subscribe_url}.")

    def _refused(self, request: Request) -> tuple[str, Response | None]:
        """The address of a usable token, or the page that says why it is not usable."""
        token = request.arg("token")
        checked = self.links.check(token, CONFIRM)
        if checked is None:
            return "", Response("400 Bad Request", self.pages.invalid_link("confirmation"))
        if checked.expired:
            return "", self.fresh.expired(token, checked.address)
        return checked.address, None

    def get(self, request: Request) -> Response:
        address, refused = self._refused(request)
        if refused is not None:
            return refused
        page = self.pages.render(
            "confirm.html",
            "Confirm your subscription",
            masked=mask(address),
            list_name=self.list_name,
            token=request.arg("token"),
        )
        return Response("200 OK", page)

    def post(self, request: Request) -> Response:
        if request.field("action") == ACTION:
            checked = self.links.check(request.arg("token"), CONFIRM)
            if checked is None:
                return Response("400 Bad Request", self.pages.invalid_link("confirmation"))
            return self.fresh.post(request, checked.address)
        address, refused = self._refused(request)
        if refused is not None:
            return refused
        evidence = Evidence(
            "web-form", "confirmation link: the button on the page", "", request.client, request.user_agent
        )
        db = self.db()
        confirmed = store.confirm(db, address, evidence)
        record = store.get(db, address)
        if not confirmed and (record is None or record.status != store.SUBSCRIBED):
            page = self.pages.message(
                "Nothing to confirm",
                "This address has no signup waiting to be confirmed. "
                f"To get the newsletter, sign up again at {self.subscribe_url}.",
            )
            return Response("409 Conflict", page)
        if confirmed:
            try:
                self.sender.welcome(address)
            except MailNotSent as exc:
                log.warning("welcome email not sent: %s", exc)
        page = self.pages.render(
            "confirmed.html",
            "You are subscribed",
            masked=mask(address),
            list_name=self.list_name,
            preferences_url=self.links.preferences_link(address),
        )
        return Response("200 OK", page)
