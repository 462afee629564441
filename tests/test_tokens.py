"""Purpose-bound, expiring link tokens (signup confirmation, preferences): they name one address,
one purpose and one list; an altered, moved or re-purposed token is refused; age is checked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.tokens import CONFIRM, PREFERENCES, make_link_token, make_token, verify_link_token

LIST = "Ann Coffey MP's newsletter <newsletter.stockport.example.org>"
SECRET = "a-test-secret-that-is-long-enough"
ISSUED = 1_700_000_000
DAY = 86_400


def check(
    token: str,
    purpose: str = CONFIRM,
    *,
    now: float = ISSUED + 60,
    max_age: float = 7 * DAY,
    secrets: tuple[str, ...] = (SECRET,),
) -> tuple[str, bool] | None:
    return verify_link_token(token, purpose, LIST, secrets, max_age=max_age, now=now)


def test_a_token_names_its_address_until_it_expires() -> None:
    token = make_link_token(CONFIRM, "zoe@example.org", LIST, SECRET, ISSUED)
    assert check(token) == ("zoe@example.org", False)
    assert check(token, now=ISSUED + 7 * DAY - 1) == ("zoe@example.org", False)
    assert check(token, now=ISSUED + 7 * DAY + 1) == ("zoe@example.org", True)
    assert check(token, now=ISSUED - 3600) == ("zoe@example.org", True), "issued an hour in the future"


def test_purpose_list_and_secret_are_all_signed() -> None:
    token = make_link_token(CONFIRM, "zoe@example.org", LIST, SECRET, ISSUED)
    assert check(token, PREFERENCES) is None
    assert verify_link_token(token, CONFIRM, "Other <other.example.org>", [SECRET], max_age=DAY, now=ISSUED) is None
    assert check(token, secrets=("another-secret",)) is None
    assert check(token, secrets=("another-secret", SECRET)) == ("zoe@example.org", False)
    assert check(make_token("zoe@example.org", LIST, SECRET)) is None, "an unsubscribe token is not a link token"


def test_the_issue_time_cannot_be_moved() -> None:
    address, _issued, mac = make_link_token(CONFIRM, "zoe@example.org", LIST, SECRET, ISSUED).split(".")
    for changed in (str(ISSUED + DAY), "0" + str(ISSUED), str(ISSUED) + "0"):
        assert check(f"{address}.{changed}.{mac}", now=ISSUED + DAY) is None, changed


@given(st.integers(min_value=0), st.integers(min_value=0, max_value=60))
def test_any_single_character_change_is_refused(position: int, shift: int) -> None:
    token = make_link_token(PREFERENCES, "margaret.hughes@example.org", LIST, SECRET, ISSUED)
    index = position % len(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    replacement = alphabet[(alphabet.index(token[index]) + 1 + shift) % len(alphabet)]
    altered = token[:index] + replacement + token[index + 1 :]
    assert altered != token
    assert check(altered, PREFERENCES) is None


@given(st.text(max_size=700))
def test_arbitrary_text_never_verifies_and_never_raises(text: str) -> None:
    assert check(text) is None
