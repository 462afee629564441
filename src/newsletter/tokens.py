"""Signed unsubscribe tokens: they name the address and the list and cannot be forged or moved.

A token is `base64url(address) "." base64url(HMAC-SHA256(secret, list-id NUL address)[:16])`.
It needs no database to verify, so it survives restarts; old secrets can be kept in a grace
list (`UNSUBSCRIBE_PREVIOUS_SECRETS`) so links in already-delivered mail keep working.
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


def make_token(address: str, list_id: str, secret: str) -> str:
    """The token for one address on one list."""
    return f"{_b64(address.encode())}.{_b64(_mac(secret, list_id, address))}"


def verify_token(token: str, list_id: str, secrets: Iterable[str]) -> str | None:
    """The address a token names, if any of `secrets` signed it for this list; else None."""
    encoded, dot, signature = token.strip().partition(".")
    if not dot or not encoded or len(token) > 600:
        return None
    try:
        address = _unb64(encoded).decode("utf-8")
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    # Canonical forms only: the spare bits of a base64 tail would otherwise let a token
    # altered in its last character decode to the same bytes.
    if _b64(address.encode()) != encoded or _b64(given) != signature or "@" not in address:
        return None
    for secret in secrets:
        if hmac.compare_digest(given, _mac(secret, list_id, address)):
            return address
    return None
