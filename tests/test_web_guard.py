"""Guarded mode: once the signup emails of the last hour reach NEWSLETTER_SIGNUP_MAILS_PER_HOUR,
the form asks for a proof of work (web/guard.py) and mails nobody without one. A flood through
the real HTTP server is counted at the real relay; a solution is accepted once; an expired,
forged or unsolved one never; the count survives a restart; and any text in the fields is
refused without a fault (property test)."""

from __future__ import annotations

import hashlib
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.web.app import WebApp
from newsletter.web.guard import CHALLENGE_SECONDS, FIELDS, Guard
from tests.support.smtpd import Server
from tests.support.web import call, opened, over_http, relayed_app, web_app

CAP = {
    "NEWSLETTER_SIGNUP_MAILS_PER_HOUR": "3",
    "NEWSLETTER_SIGNUP_GUARD_WORK": "300",
    "NEWSLETTER_SIGNUP_PER_IP": "1000",
}
BUSY = "could not check that you are a person"


@pytest.fixture
def relay() -> Iterator[Server]:
    with Server() as server:
        yield server


def post(url: str, form: dict[str, str]) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=urlencode(form).encode()), timeout=30) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def signup(address: str, **extra: str) -> dict[str, str]:
    return {"email": address, "first_name": "Bot", "consent": "yes", **extra}


def solved(page: str) -> dict[str, str]:
    """What the page's script does: the hidden fields, and the number whose hash matches."""
    found = dict(re.findall(r'name="(guard_\w+)" value="([^"]*)"', page))
    salt, target, most = found["guard_salt"], found["guard_challenge"], int(found["guard_max"])
    number = next(n for n in range(most + 1) if hashlib.sha256(f"{salt}{n}".encode()).hexdigest() == target)
    return {**{name: found[name] for name in FIELDS[:3]}, "guard_number": str(number)}


def test_a_flood_is_cut_to_the_cap_and_then_every_signup_must_solve_a_challenge(
    tmp_path: Path, relay: Server, database: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    app = relayed_app(tmp_path, relay.port, NEWSLETTER_JOURNAL=str(database), **CAP)
    with over_http(app) as base, caplog.at_level(logging.WARNING, "newsletter.web"):
        codes = [post(f"{base}/subscribe", signup(f"flood{n}@example.org"))[0] for n in range(20)]
        assert codes == [200] * 3 + [400] * 17
        assert len(relay.handler.received) == 3, "the cap's emails, then none"
        assert any("signup guarded: 3 signup emails in the last hour" in r.getMessage() for r in caplog.records)

        status, form = post(f"{base}/subscribe", signup("flood99@example.org"))
        assert status == 400 and BUSY in form and "contact the office" in form
        with urllib.request.urlopen(f"{base}/subscribe", timeout=30) as answer:
            page = answer.read().decode()
        assert "<script>" in page and "try again later" in page  # the no-script fallback says what to do
        answer = solved(page)
        assert post(f"{base}/subscribe", signup("person@example.org", **answer))[0] == 200
        assert relay.handler.recipients()[-1] == "person@example.org"
        replayed = post(f"{base}/subscribe", signup("another@example.org", **answer))
        assert replayed[0] == 400 and BUSY in replayed[1], "a solution is accepted once"
    assert len(relay.handler.received) == 4


def test_the_guard_holds_across_a_restart(tmp_path: Path) -> None:
    first = web_app(tmp_path, **CAP)
    for n in range(3):
        assert call(first, "POST", "/subscribe", body=urlencode(signup(f"a{n}@example.org")).encode()).code == 200
    again = web_app(tmp_path, **CAP)  # a new process on the same database
    refused = call(again, "POST", "/subscribe", body=urlencode(signup("b@example.org")).encode())
    assert refused.code == 400 and BUSY in refused.body
    assert not (tmp_path / "outbox" / "confirmations" / "b@example.org.eml").exists()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def answer_to(guard: Guard) -> dict[str, str]:
    c = guard.challenge()
    number = next(n for n in range(guard.work) if hashlib.sha256(f"{c.salt}{n}".encode()).hexdigest() == c.challenge)
    return {
        "guard_salt": c.salt,
        "guard_challenge": c.challenge,
        "guard_signature": c.signature,
        "guard_number": str(number),
    }


def test_expired_forged_wrong_and_other_servers_solutions_are_refused(tmp_path: Path) -> None:
    app = web_app(tmp_path)
    clock = Clock()
    guard = Guard("a-test-secret-that-is-long-enough", 3, 50, clock)
    with opened(app) as db:
        late = answer_to(guard)
        clock.now += CHALLENGE_SECONDS + 1
        assert not guard.accept(db, late)
        wrong = answer_to(guard)
        wrong["guard_number"] = str((int(wrong["guard_number"]) + 1) % 50)
        assert not guard.accept(db, wrong)
        forged = answer_to(guard)
        forged["guard_signature"] = "0" * 64
        assert not guard.accept(db, forged)
        other = answer_to(Guard("another-secret-that-is-long-enough", 3, 50, clock))
        assert not guard.accept(db, other)
        good = answer_to(guard)
        assert guard.accept(db, good) and not guard.accept(db, good)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    app = web_app(
        tmp_path_factory.mktemp("office"), NEWSLETTER_SIGNUP_MAILS_PER_HOUR="1", NEWSLETTER_SIGNUP_PER_IP="1000000"
    )
    assert call(app, "POST", "/subscribe", body=urlencode(signup("first@example.org")).encode()).code == 200
    yield app


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.text(max_size=300), min_size=4, max_size=4))
def test_any_text_in_the_challenge_fields_is_refused_without_a_fault(guarded: WebApp, values: list[str]) -> None:
    fields = dict(zip(FIELDS, values, strict=True))
    answer = call(guarded, "POST", "/subscribe", body=urlencode(signup("x@example.org", **fields)).encode())
    assert answer.code == 400 and BUSY in answer.body
