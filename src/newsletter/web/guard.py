"""Guarded mode: when the signup emails of the last hour reach NEWSLETTER_SIGNUP_MAILS_PER_HOUR,
the signup form asks the visitor's browser for a small proof of work before anyone is emailed.

The scheme is ALTCHA's, served by `serve` itself (no third-party service, nothing loaded from
elsewhere): a challenge is `salt` ("<expiry>.<random>"), `challenge` = SHA-256(salt + n) for a
secret whole number n below NEWSLETTER_SIGNUP_GUARD_WORK, and `signature` = HMAC-SHA256 of the
challenge under a key made from UNSUBSCRIBE_SECRET (so every `serve` process sharing the settings
accepts it, and nobody without them can make one). The page's script tries 0, 1, 2, ... until
the hash matches (half of NEWSLETTER_SIGNUP_GUARD_WORK hashes on average: about a second in a
browser) and sends the number with the form. The server checks the signature, the expiry and
the hash, and claims the challenge in the database (`store/client_limits.py`'s `web_claims`,
for as long as it could be used), so one solution is accepted once, by every process. A bot
must then spend that work per signup, and without a script the form says plainly to try again
later or to contact the office.

The count of emails is kept in the database too (`client_limits` rows under their own scope), so
it holds across a restart and several processes. The switch on and off is logged (a warning
on `newsletter.web`), once per change, per process.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from newsletter.store import Connection, client_limits

log = logging.getLogger("newsletter.web")
HOUR = 3600
CHALLENGE_SECONDS = 1200  # time to fill the form in after the page loaded
MAILS = "signup-mails"  # the scope of the overall count (its key never matches a client's)
USED = "guard-used"  # the scope of the solutions already accepted
FIELDS = ("guard_salt", "guard_challenge", "guard_signature", "guard_number")
LONGEST = 200  # characters of any one field: a real one is far shorter


@dataclass(frozen=True)
class Challenge:
    """What the guarded form carries in hidden fields (and `maximum` for the script)."""

    salt: str
    challenge: str
    signature: str
    maximum: int


def _hash(salt: str, number: int) -> str:
    return hashlib.sha256(f"{salt}{number}".encode()).hexdigest()


class Guard:
    """The overall hourly count of signup emails, and the challenge it calls for."""

    def __init__(self, secret: str, cap: int, work: int, clock: Callable[[], float] = time.time) -> None:
        self.key = hmac.new(secret.encode(), b"newsletter signup guard", hashlib.sha256).digest()
        self.cap = cap
        self.work = work
        self.clock = clock
        self.window = client_limits.Window(2**62, HOUR)  # counts every email, refuses none
        self._on = False  # as last logged by this process

    def _sign(self, challenge: str) -> str:
        return hmac.new(self.key, challenge.encode(), hashlib.sha256).hexdigest()

    def mailed(self, db: Connection) -> None:
        """Count one email sent by the signup path."""
        client_limits.hit(db, self.window, MAILS, "all", self.clock())

    def active(self, db: Connection) -> bool:
        """Whether the form is guarded now (logged when that changes)."""
        sent = client_limits.recent(db, MAILS, "all", HOUR, self.clock())
        on = sent >= self.cap
        if on != self._on:
            self._on = on
            if on:
                log.warning(
                    "signup guarded: %d signup emails in the last hour (NEWSLETTER_SIGNUP_MAILS_PER_HOUR=%d); "
                    "the form now asks for a proof of work",
                    sent,
                    self.cap,
                )
            else:
                log.warning("signup no longer guarded: %d signup emails in the last hour", sent)
        return on

    def challenge(self) -> Challenge:
        salt = f"{int(self.clock()) + CHALLENGE_SECONDS}.{secrets.token_hex(12)}"
        challenge = _hash(salt, secrets.randbelow(self.work))
        return Challenge(salt, challenge, self._sign(challenge), self.work)

    def accept(self, db: Connection, answer: dict[str, str]) -> bool:
        """True for a solved, unexpired challenge of ours not accepted before (and now used)."""
        salt, challenge, signature, number = (answer.get(name, "")[:LONGEST] for name in FIELDS)
        expiry = salt.partition(".")[0]
        if not (expiry.isdigit() and number.isdigit() and len(number) <= 12):
            return False
        left = int(expiry) - self.clock()
        if left <= 0 or left > CHALLENGE_SECONDS:
            return False
        if not hmac.compare_digest(self._sign(challenge).encode(), signature.encode()):
            return False
        if not hmac.compare_digest(_hash(salt, int(number)).encode(), challenge.encode()):
            return False
        return client_limits.claim(db, USED, challenge, left + 60, self.clock()) is not None
