"""The header gate: no value, from any source, makes a header of its own (issue 12)."""

from __future__ import annotations

import email
import email.policy
from email.headerregistry import Address
from email.utils import getaddresses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.gates.headers import CONTROL, HeaderError, addr_spec, address_header, fold, mailbox
from tests.hostile.strategies import header_input, hostile_text


def read_back(folded: bytes) -> email.message.Message:
    return email.message_from_bytes(folded + b"\r\n", policy=email.policy.compat32)


def addresses_of(folded: bytes, name: str) -> list[tuple[str, str]]:
    """The addresses the stdlib's modern parser reads (it unfolds first)."""
    message = email.message_from_bytes(folded + b"\r\n", policy=email.policy.default)
    return [(a.display_name, a.addr_spec) for a in message[name].addresses]


@given(header_input())
def test_no_extra_header_from_any_subject(value: str) -> None:
    try:
        folded = fold("Subject", value)
    except HeaderError as exc:
        assert "\n" not in str(exc)
        return
    message = read_back(folded)
    assert list(message.keys()) == ["Subject"]
    decoded = email.message_from_bytes(folded + b"\r\n", policy=email.policy.default)["Subject"]
    assert not CONTROL.search(str(decoded))
    assert all(line.startswith((b" ", b"\t")) for line in folded.split(b"\r\n")[1:-1])


@given(hostile_text(), st.sampled_from(["reader@example.org", "a.b+c@example.com", "x@sub.example.org"]))
def test_a_display_name_never_makes_a_second_address(name: str, address: str) -> None:
    try:
        folded = address_header("To", name, address)
    except HeaderError:
        assert CONTROL.search(name)
        return
    message = read_back(folded)
    assert list(message.keys()) == ["To"]
    found = getaddresses([message["To"]])
    assert len(found) == 1 and found[0][1] == address
    assert [a for _, a in addresses_of(folded, "To")] == [address]


@given(header_input())
def test_an_address_setting_is_one_address_or_one_line(raw: str) -> None:
    try:
        found = mailbox(raw, "NEWSLETTER_FROM")
    except HeaderError as exc:
        assert str(exc).startswith("NEWSLETTER_FROM: ") and "\n" not in str(exc)
        return
    assert not CONTROL.search(found.display_name + found.addr_spec)
    assert "@" in found.addr_spec and "," not in found.addr_spec


@pytest.mark.parametrize(
    "value",
    [
        "=?utf-8?q?Hi=0D=0ABcc:_victim@example.net?=",
        "=?utf-8?b?SGkNCkJjYzogdmljdGltQGV4YW1wbGUubmV0?=",
        "Spring news =?utf-8?q?=0ABcc:_x@example.net?=",
        "=?iso-8859-1?q?a=0Db?=",
        "Hi\r\nBcc: victim@example.net",
        "Hi\nBcc: victim@example.net",
        "Hi\x00there",
        "Hi\u2028there",
    ],
)
def test_line_breaks_are_refused_before_and_after_decoding(value: str) -> None:
    with pytest.raises(HeaderError, match="line break or control character"):
        fold("Subject", value)


def test_a_name_with_quotes_and_backslashes_stays_inside_its_quotes() -> None:
    name = 'Smith\\" <attacker@example.net>, "Jones ' * 3
    folded = address_header("To", name, "reader@example.org")
    assert [a for _, a in getaddresses([read_back(folded)["To"]])] == ["reader@example.org"]
    [(display, address)] = addresses_of(folded, "To")
    assert address == "reader@example.org" and display.replace(" ", "") == name.replace(" ", "")


def test_an_address_header_from_settings_is_rebuilt_not_refolded() -> None:
    name = 'Smith\\" <x@example.net>, "Jones ' * 3
    setting = str(Address(display_name=name, addr_spec="news@example.org"))
    folded = fold("From", setting)
    assert [a for _, a in getaddresses([read_back(folded)["From"]])] == ["news@example.org"]
    assert [a for _, a in addresses_of(folded, "From")] == ["news@example.org"]


@pytest.mark.parametrize(
    "raw",
    [
        "ü@example.org",
        "a@example.org, b@example.org",
        "a@example.org\r\nBcc: b@example.net",
        "Name <a@example.org>",
        "a@example.org;b@example.org",
        "",
        "@example.org",
        "a@",
    ],
)
def test_addr_spec_takes_exactly_one_plain_address(raw: str) -> None:
    with pytest.raises(HeaderError):
        addr_spec(raw, "--to")


def test_addr_spec_keeps_a_plain_address() -> None:
    assert addr_spec("press.office+test@example.org", "--to") == "press.office+test@example.org"
