"""RFC 8058 one-click unsubscribe and its confirmation page.

- POST (the mailbox provider's one-click button, body `List-Unsubscribe=One-Click`, or the
  page's form): verify the token, unsubscribe and suppress the address (a consent event
  with the IP address and user agent), commit, then answer 200. No redirect,
  no cookie, no second step, as RFC 8058 section 3.2 requires. Unsubscribes arriving together
  share one commit (`group_commit`); each still answers only once its own is committed.
- GET: never unsubscribes (link scanners fetch every URL in a message); it shows the masked
  address and a button that POSTs.
- A token that does not verify: 400 and nothing changes. Repeating an unsubscribe is harmless.
"""

from __future__ import annotations

from newsletter.audience.tokens import verify_token
from newsletter.store.consent import Evidence
from newsletter.web.group_commit import GroupCommit
from newsletter.web.http import Request, Response
from newsletter.web.pages import Pages, mask

ONE_CLICK = "One-Click"


class Unsubscribe:
    """The handler of UNSUBSCRIBE_URL's path."""

    def __init__(
        self,
        pages: Pages,
        commits: GroupCommit,
        list_id: str,
        secrets: list[str],
        list_name: str,
        path: str,
    ) -> None:
        self.pages = pages
        self.commits = commits
        self.list_id = list_id
        self.secrets = secrets
        self.list_name = list_name
        self.path = path

    def _address(self, token: str) -> str | None:
        """The address a token names, if it is exactly as issued (`verify_token` refuses any
        altered character)."""
        return verify_token(token, self.list_id, self.secrets) if token else None

    def get(self, request: Request) -> Response:
        token = request.arg("token")
        address = self._address(token)
        if address is None:
            return Response("400 Bad Request", self.pages.invalid_link())
        page = self.pages.render(
            "unsubscribe.html", "Unsubscribe", list_name=self.list_name, masked=mask(address), token=token
        )
        return Response("200 OK", page)

    def post(self, request: Request) -> Response:
        address = self._address(request.arg("token"))
        if address is None:
            return Response("400 Bad Request", self.pages.invalid_link())
        one_click = request.field("List-Unsubscribe") == ONE_CLICK
        source = "one-click (RFC 8058)" if one_click else "unsubscribe page"
        evidence = Evidence(source, "via " + self.path, "", request.client, request.user_agent)
        self.commits.unsubscribe(address, evidence)  # returns once committed
        page = self.pages.render(
            "unsubscribed.html", "You are unsubscribed", list_name=self.list_name, masked=mask(address)
        )
        return Response("200 OK", page)
