"""Limits against floods of signups: per client address (in the database) and per email address.

Per client: at most NEWSLETTER_SIGNUP_PER_IP signups (and requests for a fresh link) in any
hour, counted in the project database (`store/client_limits.py`), so restarting `serve`
forgets nothing and a flood cannot wait for a deploy. The client is counted by a keyed hash,
never stored as the address; an IPv6 client by its /64, the block one household is given.
Per email address: `Claims` lets one confirmation be in flight at a time, claimed in the database
(`client_limits.claim`) so that two `serve` processes behind one proxy behave as one; the time of
the last one sent is in the database too (`confirmation_sent_at`), so the period survives a restart.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from newsletter.store import Connection, client_limits

SCOPE = "signup"
CONFIRMATION = "confirmation"  # the claims' scope: their keys never match a client's
HOUR = 3600
# A claim outlives any one email (the relay's timeout is far shorter), and lapses this long after
# a process that died holding it, so that address can be emailed again.
CLAIM_LEASE = 600.0


def client_of(remote: str) -> str:
    """What one client is counted as: an IPv4 address, an IPv6 /64, else the text as given."""
    try:
        address = ipaddress.ip_address(remote.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class ClientLimit:
    """At most `limit` signups per client in any `period` seconds, kept in the database."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float] | None = None) -> None:
        self.window = client_limits.Window(limit, period)
        self.clock = clock

    def check(self, db: Connection, remote: str) -> int:
        """0 if this request is allowed (and counted), else the seconds for Retry-After."""
        now = self.clock() if self.clock is not None else None
        return client_limits.hit(db, self.window, SCOPE, client_of(remote), now)

    def forget_old(self, db: Connection) -> None:
        """Delete the rows that no longer count (the next request would; this is for a start-up)."""
        client_limits.forget_old(db, self.window, self.clock() if self.clock is not None else None)


class Claims:
    """Addresses with a confirmation being sent right now (so two requests at once send one),
    claimed in the database: the processes sharing it see each other's claims."""

    def __init__(self, lease: float = CLAIM_LEASE) -> None:
        self.lease = lease

    @contextmanager
    def claim(self, db: Connection, address: str) -> Iterator[bool]:
        subject = address.lower()
        holder = client_limits.claim(db, CONFIRMATION, subject, self.lease)
        try:
            yield holder is not None
        finally:
            if holder is not None:
                client_limits.release(db, CONFIRMATION, subject, holder)
