"""An expired confirmation or preference link offers to email a fresh one: to the address the
token names, through the same mailer (a real aiosmtpd on 127.0.0.1) and the same limits as
signup, with the same answer whatever the list holds, never re-subscribing anybody. The web
app is called directly with a real SQLite file; the served, in-browser journey is in
test_web_browser.py."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.tokens import CONFIRM, PREFERENCES, make_link_token, make_token
from newsletter.store import Connection, subscribers, transaction
from newsletter.store.consent import Evidence
from newsletter.store.privacy import erase
from newsletter.store.suppressions import add_hash
from newsletter.web.app import WebApp
from tests import test_web_signup
from tests.support.smtpd import Server
from tests.support.web import LIST_ID, SECRET, Answer, call, opened, web_app
from tests.test_web_boundary import sound
from tests.test_web_signup import REAL, link_in

ADDRESS = "priya.shah@example.org"
OLD = 1_600_000_000  # September 2020: expired for both kinds of link
STAFF = Evidence("staff", "test set-up")
relay, app = test_web_signup.relay, test_web_signup.app  # the same fixtures: a relay, the app sending to it


def db(app: WebApp) -> Connection:
    return opened(app)


def held(app: WebApp, address: str = ADDRESS) -> str | None:
    with db(app) as connection:
        record = subscribers.get(connection, address)
    return record.status if record else None


def make(app: WebApp, status: str, address: str = ADDRESS) -> None:
    """A subscriber in `status` with no email sent recently (as after an import)."""
    connection = db(app)
    subscribers.add_pending(connection, address, "Priya", "Shah", "Manor", ["schools"], STAFF)
    if status in ("subscribed", "unsubscribed"):
        subscribers.confirm(connection, address, STAFF)
    if status == "unsubscribed":
        subscribers.unsubscribe(connection, address, STAFF)
    connection.close()


def expired(purpose: str, address: str = ADDRESS) -> str:
    return make_link_token(purpose, address, LIST_ID, SECRET, OLD)


def path_of(purpose: str) -> str:
    return "/subscribe/confirm" if purpose == CONFIRM else "/preferences"


def ask(app: WebApp, purpose: str, token: str, client: str = "192.0.2.10") -> Answer:
    """Press the expired page's button."""
    form = urlencode({"token": token, "action": "new-link"}).encode()
    return call(app, "POST", path_of(purpose), f"token={quote(token)}", form, client=client)


def test_an_expired_preference_link_offers_a_new_one_that_works(app: WebApp, relay: Server) -> None:
    make(app, "subscribed")
    token = expired(PREFERENCES)
    page = call(app, "GET", "/preferences", f"token={token}")
    assert page.code == 400 and "This link has expired" in page.body and "pr***@example.org" in page.body
    assert 'name="action" value="new-link"' in page.body and f'name="token" value="{token}"' in page.body
    answer = ask(app, PREFERENCES, token)
    assert answer.code == 200 and "Check your inbox" in answer.body
    assert relay.handler.recipients() == [ADDRESS]
    path, fresh = link_in(relay)
    assert path == "/preferences" and fresh != token
    opened = call(app, "GET", path, f"token={fresh}")
    assert opened.code == 200 and 'value="Priya"' in opened.body and "Save my preferences" in opened.body
    assert held(app) == "subscribed"


def test_an_expired_confirmation_offers_a_new_one_that_confirms(app: WebApp, relay: Server) -> None:
    make(app, "pending")
    token = expired(CONFIRM)
    page = call(app, "GET", "/subscribe/confirm", f"token={token}")
    assert page.code == 400 and "Email me a new confirmation link" in page.body
    assert call(app, "POST", "/subscribe/confirm", f"token={token}").code == 400, "the old one still confirms nobody"
    answer = ask(app, CONFIRM, token)
    assert answer.code == 200 and "Check your inbox" in answer.body and held(app) == "pending"
    path, fresh = link_in(relay)
    assert path == "/subscribe/confirm"
    assert call(app, "POST", path, f"token={fresh}").code == 200
    assert held(app) == "subscribed"


def answer_for(app: WebApp, purpose: str, address: str) -> str:
    answer = ask(app, purpose, expired(purpose, address), client=f"192.0.2.{len(address)}")
    return f"{answer.status}\n" + answer.body.replace(address[:2] + "***@", "XX***@")


@pytest.mark.parametrize("purpose", [CONFIRM, PREFERENCES])
def test_the_answer_is_the_same_whatever_the_list_holds(app: WebApp, relay: Server, purpose: str) -> None:
    """Absent, pending, subscribed, unsubscribed, bounced, erased: one page, and only the
    statuses that call for a link get one; nobody is re-subscribed."""
    people = {
        f"{state}@example.org": state
        for state in ("absent", "pending", "subscribed", "unsubscribed", "bounced", "erased")
    }
    for address, state in people.items():
        if state in ("pending", "subscribed", "unsubscribed"):
            make(app, state, address)
        elif state == "bounced":
            make(app, "subscribed", address)
            with db(app) as connection:
                connection.execute(
                    "INSERT INTO suppressions (email, reason, source, created_at) "
                    "VALUES (?, 'hard-bounce', 'test', '2026-01-01')",
                    (address,),
                )
        elif state == "erased":
            make(app, "subscribed", address)
            with db(app) as connection:
                erase(connection, address)
    before = {address: held(app, address) for address in people}
    answers = {answer_for(app, purpose, address) for address in people}
    assert len(answers) == 1, "a different page would tell who is on the list"
    mailed = {"pending@example.org", "subscribed@example.org"} if purpose == CONFIRM else {"subscribed@example.org"}
    assert set(relay.handler.recipients()) == mailed
    assert {address: held(app, address) for address in people} == before


def test_a_hash_only_suppression_gets_nothing(app: WebApp, relay: Server) -> None:
    make(app, "subscribed")
    with db(app) as connection, transaction(connection):
        add_hash(connection, ADDRESS)
    assert ask(app, PREFERENCES, expired(PREFERENCES)).code == 200
    assert relay.handler.received == []


def test_the_per_address_period_and_the_per_client_limit_are_signups_own(app: WebApp, relay: Server) -> None:
    make(app, "subscribed")
    token = expired(PREFERENCES)
    answers = [ask(app, PREFERENCES, token, client=f"198.51.100.{n}") for n in range(4)]
    assert {a.body for a in answers} == {answers[0].body} and all(a.code == 200 for a in answers)
    assert relay.handler.recipients() == [ADDRESS], "one email per address per period"
    form = urlencode({"email": "new@example.org", "first_name": "N", "consent": "yes"}).encode()
    codes = [call(app, "POST", "/subscribe", body=form, client="203.0.113.9").code for _ in range(2)]
    codes += [ask(app, PREFERENCES, token, client="203.0.113.9").code for _ in range(4)]
    assert codes == [200] * 5 + [429], "signups and requests for new links share the client's budget"
    limited = ask(app, PREFERENCES, token, client="203.0.113.9")
    assert limited.code == 429 and int(limited.headers["Retry-After"]) > 0


def test_a_relay_that_is_down_is_answered_the_same(tmp_path: Path, database: Path | str) -> None:
    with Server() as relay:
        port = relay.port
    app = web_app(
        tmp_path, database, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none", SMTP_TIMEOUT="2", **REAL
    )
    make(app, "subscribed")
    answer = ask(app, PREFERENCES, expired(PREFERENCES))
    assert answer.code == 200 and "Check your inbox" in answer.body
    with db(app) as connection:
        record = subscribers.get(connection, ADDRESS)
    assert record is not None and record.confirmation_sent_at is None, "so asking again can still send it"


@pytest.mark.parametrize("purpose", [CONFIRM, PREFERENCES])
def test_forged_altered_and_repurposed_tokens_send_nothing(app: WebApp, relay: Server, purpose: str) -> None:
    make(app, "subscribed")
    other = PREFERENCES if purpose == CONFIRM else CONFIRM
    good = expired(purpose)
    for bad in (
        expired(other),
        make_token(ADDRESS, LIST_ID, SECRET),
        good[:-2] + "AA",
        good.replace(".", ".1", 1),
        make_link_token(purpose, ADDRESS, LIST_ID, "another-secret-entirely-long", OLD),
        "",
        "x.1.y",
    ):
        answer = ask(app, purpose, bad)
        sound(answer)
        assert answer.code == 400 and "not valid" in answer.body
    assert relay.handler.received == []


tokens = st.one_of(
    st.builds(
        lambda p, a, t: make_link_token(p, a, LIST_ID, SECRET, t),
        st.sampled_from([CONFIRM, PREFERENCES]),
        st.emails(),
        st.integers(min_value=1, max_value=1_700_000_000),
    ),
    st.text(max_size=120),
    st.from_regex(r"[A-Za-z0-9_=-]{0,40}\.[0-9]{0,13}\.[A-Za-z0-9_=-]{0,30}", fullmatch=True),
)


@pytest.fixture(scope="module")
def quiet_app(tmp_path_factory: pytest.TempPathFactory) -> WebApp:
    """Outbox delivery (no relay), a limit no property run reaches."""
    return web_app(tmp_path_factory.mktemp("office"), NEWSLETTER_SIGNUP_PER_IP="1000000")


@given(
    path=st.sampled_from(["/subscribe/confirm", "/preferences"]),
    query_token=tokens,
    form_token=tokens,
    action=st.one_of(st.just("new-link"), st.text(max_size=20)),
    extra=st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=4),
    method=st.sampled_from(["GET", "POST", "HEAD"]),
)
def test_no_request_for_a_new_link_gets_a_500(
    quiet_app: WebApp, path: str, query_token: str, form_token: str, action: str, extra: dict[str, str], method: str
) -> None:
    form = urlencode({**extra, "token": form_token, "action": action}).encode()
    answer = call(quiet_app, method, path, urlencode({"token": query_token}), form)
    sound(answer, method)
    assert answer.code in (200, 400, 409), answer.status
    assert "Traceback" not in answer.body and "<script" not in answer.body
