"""Signed tokens for links: they name the address and the list and cannot be forged or moved.

An unsubscribe token is `base64url(address) "." base64url(HMAC-SHA256(secret, list-id NUL address)[:16])`.
It needs no database to verify, so it survives restarts; old secrets can be kept in a grace
list (`UNSUBSCRIBE_PREVIOUS_SECRETS`) so links in already-delivered mail keep working.
Signup confirmations and preference links use purpose-bound tokens that expire (below).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

MAC_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, list_id: str, address: str) -> bytes:
    message = list_id.encode() + b"\0" + address.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()[:MAC_BYTES]


def _decode(encoded: str, signature: str) -> tuple[str, bytes] | None:
    """(address, MAC) from a token's two base64url parts, in canonical form only: the spare
    bits of a base64 tail would otherwise let a token altered in its last character decode
    to the same bytes."""
    try:
        address = _unb64(encoded).decode("utf-8")
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    if _b64(address.encode()) != encoded or _b64(given) != signature or "@" not in address:
        return None
    return address, given


def make_token(address: str, list_id: str, secret: str) -> str:
    """The token for one address on one list."""
    return f"{_b64(address.encode())}.{_b64(_mac(secret, list_id, address))}"


def verify_token(token: str, list_id: str, secrets: Iterable[str]) -> str | None:
    """The address a token names, if any of `secrets` signed it for this list; else None."""
    encoded, dot, signature = token.strip().partition(".")
    if not dot or not encoded or len(token) > 600:
        return None
    decoded = _decode(encoded, signature)
    if decoded is None:
        return None
    address, given = decoded
    for secret in secrets:
        if hmac.compare_digest(given, _mac(secret, list_id, address)):
            return address
    return None


# Purpose-bound links (confirm a signup, manage preferences) carry the time they were issued,
# so they can expire, and sign the purpose, so a token made for one page opens no other:
# `base64url(address) "." issued "." base64url(HMAC-SHA256(secret, purpose NUL list-id NUL
# issued NUL address)[:16])`, `issued` in whole seconds since the epoch, in decimal.
CONFIRM = "confirm"  # the double opt-in link in the confirmation email
PREFERENCES = "preferences"  # the "manage your preferences" link in every issue's footer
CLOCK_SKEW = 300  # seconds a token may seem to come from the future (servers' clocks differ)


def _link_mac(secret: str, purpose: str, list_id: str, issued: int, address: str) -> bytes:
    message = b"\0".join([purpose.encode(), list_id.encode(), str(issued).encode(), address.encode()])
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()[:MAC_BYTES]


def make_link_token(purpose: str, address: str, list_id: str, secret: str, issued: int) -> str:
    """A token for one address, one purpose and one list, issued at `issued` (epoch seconds)."""
    return f"{_b64(address.encode())}.{issued}.{_b64(_link_mac(secret, purpose, list_id, issued, address))}"


def verify_link_token(
    token: str, purpose: str, list_id: str, secrets: Iterable[str], *, max_age: float, now: float
) -> tuple[str, bool] | None:
    """(address, expired) if any of `secrets` signed this token for `purpose` on this list;
    None if it is forged, altered or malformed. An expired token still names its address (so
    a page can say "this link has expired" rather than "this link is broken")."""
    parts = token.strip().split(".")
    if len(parts) != 3 or len(token) > 600:
        return None
    encoded, issued_text, signature = parts
    if not (issued_text.isascii() and issued_text.isdigit()) or len(issued_text) > 12 or issued_text[0] == "0":
        return None
    decoded = _decode(encoded, signature)
    if decoded is None:
        return None
    address, given = decoded
    issued = int(issued_text)
    for secret in secrets:
        if hmac.compare_digest(given, _link_mac(secret, purpose, list_id, issued, address)):
            expired = now - issued > max_age or issued - now > CLOCK_SKEW
            return address, expired
    return None
