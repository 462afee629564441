"""The header gate: every header value, from any source, passes `fold` (or, for one
recipient's address, `address_header`; for a setting checked when loaded, `header_value`).

A value is refused when it holds CR, LF or another control character, either as written or
after RFC 2047 decoding: the stdlib's header policy decodes `=?utf-8?q?Hi=0D=0ABcc:...?=` and,
left alone, writes the decoded line break out raw (a real `Bcc:` header). Addresses are parsed
by `email.headerregistry`; a display name that is not plain is written as RFC 2047 encoded
words by `email.header.Header`, so it folds only between words. The stdlib's own folder is not
used for addresses: it drops the quotes of a display name it splits (Python 3.11), and
`Smith\\" <x@example.net>, "Jones` then reads as several addresses."""

from __future__ import annotations

import email.policy
import re
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address, BaseHeader
from email.parser import BytesHeaderParser
from functools import lru_cache

from newsletter.errors import InputError

# C0 (tab included), DEL, C1, and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Display names the fast path may write as they are: atext and spaces (RFC 5322 3.2.3).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]{1,64}")
_ADDR_SPEC = re.compile(r"[!-~]{3,254}")
# dot-atom "@" host name (RFC 5322 3.4.1 with a DNS domain): a complete addr-spec on its own.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOT_ATOM_ADDRESS = re.compile(rf"(?=.{{3,254}}$){_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
# A display name as RFC 2047 encoded words only (what `Header` writes): nothing outside them.
_ENCODED_PHRASE = re.compile(
    r"=\?utf-8\?(?:b\?[A-Za-z0-9+/=]*|q\?[A-Za-z0-9!*+/=_-]*)\?="
    r"(?:(?:\r\n)? =\?utf-8\?(?:b\?[A-Za-z0-9+/=]*|q\?[A-Za-z0-9!*+/=_-]*)\?=)*"
)
# An ASCII display name that is safe inside one quoted-string: no quote, no backslash.
_QUOTABLE_NAME = re.compile(r"[ !#-\[\]-~]{1,64}")
_POLICY = email.policy.SMTP


class HeaderError(InputError):
    """A value cannot go into a header as it is (exit 2; callers add the file or setting)."""


def _parsed(name: str, value: str, label: str = "") -> BaseHeader:
    label = label or f"header {name}"
    if CONTROL.search(value):
        raise HeaderError(f"{label}: contains a line break or control character")
    try:
        header: BaseHeader = _POLICY.header_factory(name, value)
    except Exception as exc:  # the stdlib's parser fails in many ways (ValueError for CR/LF, AttributeError...)
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
    """One header, checked, RFC 2047-encoded where needed and folded between tokens.

    An address header (From, Reply-To, To) must hold exactly one address, and is rebuilt by
    `address_header`: the stdlib's folder drops the quotes of a display name it splits, so
    a name like `Smith\\" <x@example.net>, "Jones` would read back as two addresses.
    """
    header = _parsed(name, value)
    addresses: tuple[Address, ...] | None = getattr(header, "addresses", None)
    if addresses is not None:
        if len(addresses) != 1 or header.defects:
            raise HeaderError(f"header {name}: must hold exactly one address")
        return address_header(name, addresses[0].display_name, addresses[0].addr_spec)
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
    if _DOT_ATOM_ADDRESS.fullmatch(raw):  # the common case, without the stdlib's parser (~35 us)
        return raw
    if CONTROL.search(raw):
        raise HeaderError(f"{what}: contains a line break or control character")
    if not _ADDR_SPEC.fullmatch(raw) or any(c in raw for c in ',;<>()[]\\"'):
        raise HeaderError(f"{what}: not one plain ASCII address like news@example.org")
    try:
        address = Address(addr_spec=raw)
    except (ValueError, IndexError, HeaderParseError):
        raise HeaderError(f"{what}: not one plain ASCII address like news@example.org") from None
    if address.addr_spec != raw or not address.username or not address.domain:
        raise HeaderError(f"{what}: not one plain ASCII address like news@example.org")
    return raw


def mailbox(raw: str, what: str) -> Address:
    """`Name <local@domain>` or a bare address, as one `Address`; anything else is refused."""
    header = _parsed("From", raw, what)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    groups = getattr(header, "groups", ())
    if len(addresses) != 1 or header.defects or any(g.display_name is not None for g in groups):
        raise HeaderError(f"{what}: {raw[:80]!r} is not one address like 'Name <news@example.org>'")
    found: Address = addresses[0]
    _check_address_parts(what, found)
    addr_spec(found.addr_spec, what)
    return found


def address_header(name: str, display_name: str, address: str) -> bytes:
    """`Name: Display <addr>` for one address, cheaply (this runs once per recipient).

    A name of atext is written as it is, one of other printable ASCII (a dot, a comma) as a
    quoted-string when it holds no quote or backslash and fits on the line. Any other name
    becomes RFC 2047 encoded words (the email package's `Header`), which carry quotes,
    backslashes, commas and angle brackets as data and fold only between words; they are
    checked to be nothing but encoded words, once per distinct name.
    """
    addr_spec(address, f"header {name}")
    if CONTROL.search(display_name):
        raise HeaderError(f"header {name}: the display name contains a line break or control character")
    if not display_name:
        line = f"{name}: {address}\r\n"
        return line.encode("ascii") if len(line) <= 78 else f"{name}:\r\n {address}\r\n".encode("ascii")
    room = 72 - len(name) - len(address)
    if len(display_name) < room and _PLAIN_NAME.fullmatch(display_name):
        return f"{name}: {display_name} <{address}>\r\n".encode("ascii")
    if len(display_name) < room - 2 and _QUOTABLE_NAME.fullmatch(display_name):
        return f'{name}: "{display_name}" <{address}>\r\n'.encode("ascii")
    phrase = _encoded_phrase(name, display_name)
    last_line = len(phrase) - phrase.rfind("\n") + (len(name) + 2 if "\n" not in phrase else 0)
    gap = "\r\n " if last_line + len(address) + 3 > 78 else " "
    return f"{name}: {phrase}{gap}<{address}>\r\n".encode("ascii")


@lru_cache(maxsize=4096)
def _encoded_phrase(name: str, display_name: str) -> str:
    phrase = Header(display_name, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=76)
    if not _ENCODED_PHRASE.fullmatch(phrase):
        raise HeaderError(f"header {name}: the display name cannot be written safely")
    return phrase
