"""The one way the web app emails a link: signup's confirmation, and a fresh link asked for on
the page of an expired one. Both go through the same limits:

- per client: NEWSLETTER_SIGNUP_PER_IP requests an hour (`limits.ClientLimit`, in the
  database), answered 429 with Retry-After;
- per address: at most one email every NEWSLETTER_SIGNUP_RESEND_MINUTES (the time of the last
  is `confirmation_sent_at`), one in flight at a time (claimed in the database, so across every
  `serve` process sharing it), and none to a bounced, complained about or erased address.

Which email an address gets depends only on what the list holds, and never changes it:
pending -> the confirmation link; subscribed -> their preference link; unsubscribed or unknown
-> nothing (a fresh link never re-subscribes anyone; only a new signup and its confirmation do).

Every email sent here counts towards NEWSLETTER_SIGNUP_MAILS_PER_HOUR (`guard.Guard`), which
guards the signup form once reached. The welcome after a confirmation goes out through the same
relay (NEWSLETTER_WELCOME), once: only the request whose commit confirmed the signup sends it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from newsletter.audience.tokens import PREFERENCES
from newsletter.store import Connection, now
from newsletter.store import subscribers as store
from newsletter.store.journal import sent_issues
from newsletter.store.suppressions import is_suppressed
from newsletter.web.config import WebSettings
from newsletter.web.guard import Guard
from newsletter.web.http import Request, Response
from newsletter.web.limits import Claims, ClientLimit
from newsletter.web.links import Links
from newsletter.web.mail import ConfirmationMail
from newsletter.web.pages import Pages

MAILABLE = (None, "unsubscribed")  # a fresh, confirmed signup may lift only an unsubscribe


class LinkSender:
    """Signup's and the fresh links' emails, behind the per-client and per-address limits."""

    def __init__(
        self,
        pages: Pages,
        db: Callable[[], Connection],
        web: WebSettings,
        links: Links,
        mail: ConfirmationMail,
        per_client: ClientLimit,
        guard: Guard,
    ) -> None:
        self.pages = pages
        self.db = db
        self.web = web
        self.links = links
        self.mail = mail
        self.per_client = per_client
        self.claims = Claims()
        self.guard = guard

    def over_limit(self, request: Request, title: str = "Too many sign-ups", what: str = "sign-ups") -> Response | None:
        """Count this request against its client; the 429 page when there were too many."""
        wait = self.per_client.check(self.db(), request.client)
        if not wait:
            return None
        page = self.pages.message(
            title, f"There have been too many {what} from your connection in the last hour. Please try again later."
        )
        return Response("429 Too Many Requests", page, extra=[("Retry-After", str(wait))])

    def send(self, email: str, *, fresh: str = "") -> None:
        """Email `email` the link its status calls for, within the per-address limits. `fresh` is
        the purpose of an expired link someone asked to replace ("" for a signup). Raises
        `MailNotSent` when the relay or the outbox refused it."""
        db = self.db()
        if is_suppressed(db, email) not in MAILABLE:
            return
        with self.claims.claim(db, email) as mine:
            current = store.get(db, email)
            if not mine or current is None or self._recent(current.confirmation_sent_at):
                return
            if current.status == store.SUBSCRIBED:
                link = self.links.preferences_url(current.email)
                message = self.mail.build(
                    current.email, current.first_name, link, already_subscribed=True, new_link=fresh == PREFERENCES
                )
            elif current.status == store.PENDING and fresh != PREFERENCES:
                link = self.links.confirm_url(current.email)
                message = self.mail.build(current.email, current.first_name, link, already_subscribed=False)
            else:
                return
            self.mail.send(message)
            store.mark_confirmation_sent(db, current.email, now())
            self.guard.mailed(db)

    def welcome(self, email: str) -> None:
        """The welcome for a signup this request just confirmed (NEWSLETTER_WELCOME): their
        preference link and the newest sent issue's page in the archive. Raises `MailNotSent`."""
        db = self.db()
        if not self.mail.welcomes_on or is_suppressed(db, email) is not None:
            return
        sent = sent_issues(db)
        latest = self.links.settings.view_online_url(sent[-1][0]) if sent else ""  # the newest first send
        message = self.mail.welcome(email, self.links.preferences_url(email), latest)
        self.mail.send(message, welcome=True)

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
