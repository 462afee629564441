"""The header gate: every header value, from any source, passes `header_value` or `address`.

A value is refused when it holds CR, LF or another control character, either as written or
after RFC 2047 decoding: the stdlib's header policy decodes `=?utf-8?q?Hi=0D=0ABcc:...?=` and,
left alone, writes the decoded line break out raw (a real `Bcc:` header). Addresses and display
names are built with `email.headerregistry.Address` and folded by the SMTP policy, which folds
between tokens only, never inside a quoted display name.
"""

from __future__ import annotations

import email.policy
import re
from email.headerregistry import Address, BaseHeader
from email.parser import BytesHeaderParser

from newsletter.errors import InputError

# C0 (tab included), DEL, C1, and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Display names the fast path may write as they are: atext and spaces (RFC 5322 3.2.3).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]{1,64}")
_ADDR_SPEC = re.compile(r"[!-~]{3,254}")
_POLICY = email.policy.SMTP


class HeaderError(InputError):
    """A value cannot go into a header as it is (exit 2; callers add the file or setting)."""


def _parsed(name: str, value: str, label: str = "") -> BaseHeader:
    label = label or f"header {name}"
    if CONTROL.search(value):
        raise HeaderError(f"{label}: contains a line break or control character")
    try:
        header: BaseHeader = _POLICY.header_factory(name, value)
    except (ValueError, LookupError, IndexError) as exc:  # the stdlib refuses CR/LF in address parts
        raise HeaderError(f"{label}: {_reason(exc)}") from None
    if CONTROL.search(str(header)):
        raise HeaderError(f"{label}: an encoded word decodes to a line break or control character")
    return header


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "CR or LF" in text:
        return "an encoded word decodes to a line break or control character"
    return "cannot be read as a header value"


def header_value(name: str, value: str, label: str = "") -> str:
    """The value, checked; raises HeaderError. For settings and fields checked when loaded."""
    _parsed(name, value, label)
    return value


def fold(name: str, value: str) -> bytes:
    """One header, checked, RFC 2047-encoded where needed and folded between tokens."""
    header = _parsed(name, value)
    for address in getattr(header, "addresses", ()):
        _check_address_parts(f"header {name}", address)
    folded = header.fold(policy=_POLICY).encode("ascii")
    _one_header(name, folded)
    return folded


def _one_header(name: str, folded: bytes) -> None:
    """The last check: the folded bytes read back as exactly this one header."""
    parsed = BytesHeaderParser(policy=email.policy.compat32).parsebytes(folded + b"\r\n")
    if [key.lower() for key in parsed] != [name.lower()]:
        raise HeaderError(f"header {name}: would not read back as one header")


def _check_address_parts(label: str, address: Address) -> None:
    if CONTROL.search(address.display_name) or CONTROL.search(address.addr_spec):
        raise HeaderError(f"{label}: an encoded word decodes to a line break or control character")


def addr_spec(raw: str, what: str = "address") -> str:
    """One bare ASCII address `local@domain`, nothing else (no name, no second address)."""
    if CONTROL.search(raw):
        raise HeaderError(f"{what}: contains a line break or control character")
    if not _ADDR_SPEC.fullmatch(raw) or any(c in raw for c in ',;<>()[]\\"'):
        raise HeaderError(f"{what}: not one plain ASCII address like news@example.org")
    try:
        address = Address(addr_spec=raw)
    except (ValueError, IndexError):
        raise HeaderError(f"{what}: not one plain ASCII address like news@example.org") from None
    if address.addr_spec != raw or not address.username or not address.domain:
        raise HeaderError(f"{what}: not one plain ASCII address like news@example.org")
    return raw


def mailbox(raw: str, what: str) -> Address:
    """`Name <local@domain>` or a bare address, as one `Address`; anything else is refused."""
    header = _parsed("From", raw, what)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if len(addresses) != 1 or header.defects:
        raise HeaderError(f"{what}: {raw[:80]!r} is not one address like 'Name <news@example.org>'")
    found: Address = addresses[0]
    _check_address_parts(what, found)
    addr_spec(found.addr_spec, what)
    return found


def address_header(name: str, display_name: str, address: str) -> bytes:
    """`Name: Display <addr>` for one recipient, cheaply when the name is plain.

    The fast path writes atext names as they are (the common case: tens of thousands of
    recipients); any other name goes through `Address` and the SMTP policy's folding.
    """
    addr_spec(address, f"header {name}")
    if not display_name:
        line = f"{name}: {address}\r\n"
        if len(line) <= 78:
            return line.encode("ascii")
        return fold(name, address)
    if _PLAIN_NAME.fullmatch(display_name) and len(name) + len(display_name) + len(address) < 72:
        return f"{name}: {display_name} <{address}>\r\n".encode("ascii")
    if CONTROL.search(display_name):
        raise HeaderError(f"header {name}: the display name contains a line break or control character")
    return fold(name, str(Address(display_name=display_name, addr_spec=address)))
