"""Signup with double opt-in: the form, "check your inbox", and the confirmation page.

- `POST /subscribe` stores a pending subscriber and the evidence (IP, user agent, form,
  consent version and the exact wording shown), commits, then sends the confirmation email.
  The answer is the same page whether or not the address was already listed; someone
  already subscribed gets an email saying so, with their preference link.
- Abuse: a honeypot field (a filled one gets the same page and nothing is stored), at most
  NEWSLETTER_SIGNUP_PER_IP signups per client address an hour (429), and at most one email
  per address every NEWSLETTER_SIGNUP_RESEND_MINUTES, however many signups arrive.
- The confirmation link opens a page with a button: a GET (a mail scanner, a preview)
  confirms nobody; the button's POST does.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable

from newsletter.store import now
from newsletter.store import subscribers as store
from newsletter.store.consent import Evidence
from newsletter.store.suppressions import is_suppressed
from newsletter.tokens import CONFIRM
from newsletter.web.config import WebSettings
from newsletter.web.forms import SignupForm, read_signup
from newsletter.web.http import Request, Response
from newsletter.web.limits import Claims, WindowLimit
from newsletter.web.links import Links
from newsletter.web.mail import ConfirmationMail, MailNotSent
from newsletter.web.pages import Pages, mask

log = logging.getLogger("newsletter.web")
MAILABLE = (None, "unsubscribed")  # a fresh, confirmed signup may lift only an unsubscribe


class Signup:
    """`GET/POST /subscribe`."""

    def __init__(self, pages: Pages, db: Callable[[], sqlite3.Connection], web: WebSettings, links: Links,
                 mail: ConfirmationMail, list_name: str) -> None:
        self.pages = pages
        self.db = db
        self.web = web
        self.links = links
        self.mail = mail
        self.list_name = list_name
        self.per_ip = WindowLimit(web.signups_per_ip_hour, 3600)
        self.claims = Claims()

    def _form(self, status: str, form: SignupForm) -> Response:
        page = self.pages.render(
            "subscribe.html", "Sign up for the newsletter", list_name=self.list_name, values=form.values(),
            errors=form.errors, wards=self.web.wards, topics=self.web.topics, statement=self.web.consent_statement,
            version=self.web.consent_version, action=self.web.subscribe_path)
        return Response(status, page)

    def get(self, request: Request) -> Response:
        return self._form("200 OK", SignupForm())

    def _check_inbox(self) -> Response:
        page = self.pages.render("check_inbox.html", "Check your inbox", expiry_days=self.web.confirm_seconds // 86_400)
        return Response("200 OK", page)

    def post(self, request: Request) -> Response:
        if request.field("website"):
            return self._check_inbox()  # a bot filled the hidden field: look the same, do nothing
        if not self.per_ip.allow(request.client):
            page = self.pages.message("Too many sign-ups", "There have been too many sign-ups from your "
                                      "connection in the last hour. Please try again later.")
            return Response("429 Too Many Requests", page,
                            extra=[("Retry-After", str(self.per_ip.retry_after(request.client)))])
        form = read_signup(request, self.web)
        if form.errors:
            return self._form("400 Bad Request", form)
        detail = f"form: {form.form}; consent statement version {self.web.consent_version}"
        if form.consent_version and form.consent_version != self.web.consent_version:
            detail += f" (the form sent version {form.consent_version})"
        evidence = Evidence("web-form", detail, self.web.consent_statement, request.client, request.user_agent)
        d = form.details
        record = store.add_pending(self.db(), form.email, d.first_name, d.last_name, d.ward, d.topics, evidence)
        try:
            self._send(record)
        except MailNotSent as exc:
            log.warning("confirmation email not sent: %s", exc)
            page = self.pages.message("Please try again", "We could not send the confirmation email just now. "
                                      "Please try again in a few minutes.")
            return Response("503 Service Unavailable", page, extra=[("Retry-After", "120")])
        return self._check_inbox()

    def _send(self, record: store.SubscriberRecord) -> None:
        """At most one email per address per period, and none to a bounced, complained about
        or erased address."""
        db = self.db()
        if is_suppressed(db, record.email) not in MAILABLE:
            return
        with self.claims.claim(record.email) as mine:
            current = store.get(db, record.email)
            if not mine or current is None or self._recent(current.confirmation_sent_at):
                return
            already = current.status == store.SUBSCRIBED
            link = self.links.preferences_url(current.email) if already else self.links.confirm_url(current.email)
            self.mail.send(self.mail.build(current.email, current.first_name, link, already_subscribed=already))
            store.mark_confirmation_sent(db, current.email, now())

    def _recent(self, sent_at: str | None) -> bool:
        if not sent_at:
            return False
        try:
            sent = dt.datetime.fromisoformat(sent_at)
        except ValueError:
            return False
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=dt.UTC)
        return (dt.datetime.now(dt.UTC) - sent).total_seconds() < self.web.resend_seconds


class Confirm:
    """The confirmation link: GET shows a button, POST confirms."""

    def __init__(self, pages: Pages, db: Callable[[], sqlite3.Connection], links: Links, list_name: str,
                 subscribe_url: str) -> None:
        self.pages = pages
        self.db = db
        self.links = links
        self.list_name = list_name
        self.subscribe_url = subscribe_url

    def _refused(self, request: Request) -> tuple[str, Response | None]:
        """The address of a usable token, or the page that says why it is not usable."""
        checked = self.links.check(request.arg("token"), CONFIRM)
        if checked is None:
            return "", Response("400 Bad Request", self.pages.invalid_link("confirmation"))
        if checked.expired:
            page = self.pages.render("message.html", "This link has expired", paragraphs=[
                "Confirmation links work for a limited time, and this one is too old.",
                f"Please sign up again at {self.subscribe_url} and use the new link."])
            return "", Response("400 Bad Request", page)
        return checked.address, None

    def get(self, request: Request) -> Response:
        address, refused = self._refused(request)
        if refused is not None:
            return refused
        page = self.pages.render("confirm.html", "Confirm your subscription", masked=mask(address),
                                 list_name=self.list_name, token=request.arg("token"))
        return Response("200 OK", page)

    def post(self, request: Request) -> Response:
        address, refused = self._refused(request)
        if refused is not None:
            return refused
        evidence = Evidence("web-form", "confirmation link: the button on the page", "", request.client,
                            request.user_agent)
        db = self.db()
        confirmed = store.confirm(db, address, evidence)
        record = store.get(db, address)
        if not confirmed and (record is None or record.status != store.SUBSCRIBED):
            page = self.pages.message("Nothing to confirm", "This address has no signup waiting to be confirmed. "
                                      f"To get the newsletter, sign up again at {self.subscribe_url}.")
            return Response("409 Conflict", page)
        page = self.pages.render("confirmed.html", "You are subscribed", masked=mask(address),
                                 list_name=self.list_name, preferences_url=self.links.preferences_link(address))
        return Response("200 OK", page)
