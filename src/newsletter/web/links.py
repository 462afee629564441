"""The signed links of the web app: the confirmation link in the signup email and the
preference link, each bound to its purpose and checked for age (`tokens.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from newsletter.audience.tokens import CONFIRM, PREFERENCES, make_link_token, verify_link_token
from newsletter.settings import Settings
from newsletter.web.config import WebSettings


@dataclass(frozen=True)
class Checked:
    """A link token that verified: whose it is, and whether it is too old to use."""

    address: str
    expired: bool


@dataclass
class Links:
    settings: Settings
    web: WebSettings
    clock: Callable[[], float] = field(default=time.time)

    def _token(self, purpose: str, address: str) -> str:
        return make_link_token(
            purpose, address, self.settings.list_id, self.settings.unsubscribe_secret, int(self.clock())
        )

    def confirm_url(self, address: str) -> str:
        return f"{self.web.confirm_url}?token={self._token(CONFIRM, address)}"

    def preferences_url(self, address: str) -> str:
        return f"{self.web.preferences_url}?token={self._token(PREFERENCES, address)}"

    def preferences_link(self, address: str) -> str:
        """The same, as a path on this site (for a page: the browser is already here)."""
        return f"{self.web.preferences_path}?token={self._token(PREFERENCES, address)}"

    def check(self, token: str, purpose: str) -> Checked | None:
        """None for a token that is missing, forged or altered."""
        if not token:
            return None
        max_age = self.web.confirm_seconds if purpose == CONFIRM else self.web.preferences_seconds
        secrets = [self.settings.unsubscribe_secret, *self.settings.previous_secrets]
        found = verify_link_token(token, purpose, self.settings.list_id, secrets, max_age=max_age, now=self.clock())
        return Checked(*found) if found else None
