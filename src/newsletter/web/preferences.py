"""The preference centre: the signed link at the bottom of every issue.

GET shows what is held (name, ward, topics) in a form; POST with `action=save` changes it,
`action=unsubscribe` stops everything. Each change is a consent event with the IP address
and user agent. Without a token the page explains where the link is and offers to email it
(`lost_link.py`); a forged or altered
token changes nothing (400), and an expired one says so and offers to email a fresh link
(`fresh_link.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from newsletter.audience.tokens import PREFERENCES
from newsletter.store import Connection
from newsletter.store import subscribers as store
from newsletter.store.consent import Evidence
from newsletter.web.config import WebSettings
from newsletter.web.forms import Details, read_details
from newsletter.web.fresh_link import ACTION, FreshLink
from newsletter.web.http import Request, Response
from newsletter.web.links import Links
from newsletter.web.lost_link import ACTION as EMAIL_LINK
from newsletter.web.lost_link import LostLink
from newsletter.web.pages import Pages, mask
from newsletter.web.sender import LinkSender

PURPOSE = "We use your name to greet you, and your ward and topics to choose the news we send you."


class Preferences:
    """`GET/POST /preferences?token=T`."""

    def __init__(
        self,
        pages: Pages,
        db: Callable[[], Connection],
        web: WebSettings,
        links: Links,
        list_name: str,
        sender: LinkSender,
    ) -> None:
        self.pages = pages
        self.db = db
        self.web = web
        self.links = links
        self.list_name = list_name
        self.lost = LostLink(pages, sender)
        self.fresh = FreshLink(
            pages,
            sender,
            PREFERENCES,
            fallback="Or reply to any newsletter, and the office will make the change for you.",
        )

    def _address(self, request: Request) -> tuple[str, Response | None]:
        token = request.arg("token")
        if not token:
            return "", self.lost.form()
        checked = self.links.check(token, PREFERENCES)
        if checked is None:
            return "", Response("400 Bad Request", self.pages.invalid_link("preferences"))
        if checked.expired:
            return "", self.fresh.expired(token, checked.address)
        return checked.address, None

    def _page(
        self,
        status: str,
        request: Request,
        address: str,
        *,
        details: Details | None = None,
        errors: dict[str, str] | None = None,
        saved: bool = False,
    ) -> Response:
        record = store.get(self.db(), address)
        subscribed = record is not None and record.status == store.SUBSCRIBED
        if details is None:
            details = Details(record.first_name, record.last_name, record.ward, record.tags) if record else Details()
        values = {
            "first_name": details.first_name,
            "last_name": details.last_name,
            "ward": details.ward,
            "topics": details.topics,
        }
        page = self.pages.render(
            "preferences.html",
            "Your newsletter preferences",
            masked=mask(address),
            token=request.arg("token"),
            subscribed=subscribed,
            pending=record is not None and record.status == store.PENDING,
            values=values,
            errors=errors or {},
            saved=saved,
            wards=self._wards(details.ward),
            topics=self.web.topics,
            list_name=self.list_name,
            purpose=PURPOSE,
        )
        return Response(status, page)

    def _wards(self, current: str) -> tuple[str, ...]:
        """The configured wards, and the one held if the list has changed since."""
        return self.web.wards if not current or current in self.web.wards else (current, *self.web.wards)

    def get(self, request: Request) -> Response:
        address, refused = self._address(request)
        return refused if refused is not None else self._page("200 OK", request, address)

    def post(self, request: Request) -> Response:
        action = request.field("action")
        if action == EMAIL_LINK and not request.arg("token"):
            return self.lost.post(request)
        if action == ACTION:
            checked = self.links.check(request.arg("token"), PREFERENCES)
            if checked is None:
                return Response("400 Bad Request", self.pages.invalid_link("preferences"))
            return self.fresh.post(request, checked.address)
        address, refused = self._address(request)
        if refused is not None:
            return refused if refused.status != "200 OK" else Response("400 Bad Request", refused.body)
        evidence = Evidence("preferences-page", "", PURPOSE, request.client, request.user_agent)
        if action == "unsubscribe":
            store.unsubscribe(
                self.db(),
                address,
                Evidence("preferences-page", "unsubscribe from everything", "", request.client, request.user_agent),
            )
            page = self.pages.render(
                "unsubscribed.html", "You are unsubscribed", list_name=self.list_name, masked=mask(address)
            )
            return Response("200 OK", page)
        if action != "save":
            return Response("400 Bad Request", self.pages.message("Bad request", "Use one of the page's buttons."))
        record = store.get(self.db(), address)
        if record is None or record.status != store.SUBSCRIBED:
            return self._page("409 Conflict", request, address)
        errors: dict[str, str] = {}
        details = read_details(request, self._wards(record.ward), self.web.topics, errors)
        if errors:
            return self._page("400 Bad Request", request, address, details=details, errors=errors)
        # Tags that are not topics on the form (set by staff or an import) are kept as they are.
        kept = tuple(t for t in record.tags if t not in self.web.topics)
        store.update_preferences(
            self.db(),
            address,
            first_name=details.first_name,
            last_name=details.last_name,
            ward=details.ward,
            tags=kept + details.topics,
            evidence=evidence,
        )
        return self._page("200 OK", request, address, saved=True)
