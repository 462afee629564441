"""The per-client signup limit lives in the project database: it holds across a restart of a
real `newsletter serve`, keeps no client address, and its table stays bounded however many
clients a flood comes from. Real SQLite files, a real server process, real HTTP."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from newsletter.store import Connection, client_limits, connect
from newsletter.store.client_limits import Window
from newsletter.web.limits import client_of
from tests.conftest import REAL_SETTINGS
from tests.support.consent_server import serving
from tests.support.db import query
from tests.support.web import web_app

HOUR = 3600.0
T0 = 1_800_000_000.0


@pytest.fixture
def db(database: Path | str) -> Iterator[Connection]:
    """On each backend: the limits are kept in the database so that two `serve` processes
    behind one proxy count together."""
    with connect(database, synchronous="OFF") as connection:
        yield connection


def test_n_in_any_window_then_retry_after_the_oldest_leaves(db: Connection) -> None:
    window = Window(limit=3, period=HOUR)
    assert [client_limits.hit(db, window, "signup", "203.0.113.7", T0 + n * 60) for n in range(3)] == [0, 0, 0]
    wait = client_limits.hit(db, window, "signup", "203.0.113.7", T0 + 600)
    assert wait == HOUR - 600 + 1, "until the first of the three is an hour old"
    assert client_limits.hit(db, window, "signup", "203.0.113.8", T0 + 600) == 0, "another client is not held up"
    assert client_limits.hit(db, window, "other", "203.0.113.7", T0 + 600) == 0, "nor another scope"
    assert client_limits.hit(db, window, "signup", "203.0.113.7", T0 + HOUR - 1) > 0
    assert client_limits.hit(db, window, "signup", "203.0.113.7", T0 + HOUR + 1) == 0
    assert client_limits.rows(db) <= 5


def test_a_refused_request_is_not_counted(db: Connection) -> None:
    window = Window(limit=1, period=HOUR)
    assert client_limits.hit(db, window, "signup", "c", T0) == 0
    for n in range(1, 50):
        assert client_limits.hit(db, window, "signup", "c", T0 + n) > 0
    assert client_limits.rows(db) == 1
    assert client_limits.hit(db, window, "signup", "c", T0 + HOUR + 1) == 0


def test_a_flood_from_many_clients_keeps_the_table_bounded(db: Connection) -> None:
    window = Window(limit=2, period=HOUR, max_rows=500)
    for n in range(3000):
        assert client_limits.hit(db, window, "signup", f"10.{n // 256 % 256}.{n % 256}.{n // 65536}", T0 + n / 10) == 0
        assert client_limits.rows(db) <= 500
    assert client_limits.rows(db) == 500
    assert client_limits.hit(db, window, "signup", "10.11.183.0", T0 + 301) == 0, "the newest are kept..."
    assert client_limits.hit(db, window, "signup", "10.11.183.0", T0 + 302) > 0, "...and still count"
    # An hour later the whole flood is forgotten by the next request, whoever makes it.
    assert client_limits.hit(db, window, "signup", "192.0.2.1", T0 + 400 + HOUR) == 0
    assert client_limits.rows(db) == 1


def test_a_clock_set_back_forgets_times_from_the_future(db: Connection) -> None:
    window = Window(limit=1, period=HOUR)
    assert client_limits.hit(db, window, "signup", "c", T0 + 10 * HOUR) == 0
    assert client_limits.hit(db, window, "signup", "c", T0) == 0, "not held for ten hours by a wrong clock"


def test_clients_are_kept_only_as_keyed_hashes(db: Connection, tmp_path: Path) -> None:
    first, second = db, connect(tmp_path / "b.sqlite3")
    for db in (first, second):
        client_limits.hit(db, Window(5, HOUR), "signup", "203.0.113.7")
    [(key_a,)] = first.execute("SELECT key FROM client_limits").fetchall()
    [(key_b,)] = second.execute("SELECT key FROM client_limits").fetchall()
    assert isinstance(key_a, bytes) and len(key_a) == 16 and b"203" not in key_a
    assert key_a != key_b, "each database has its own key: a hash is no use without it"
    assert key_a == client_limits.client_key(first, "signup", "203.0.113.7")
    second.close()


@pytest.mark.parametrize(
    ("remote", "counted"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("[2001:db8::1]", "2001:db8::/64"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64(remote: str, counted: str) -> None:
    assert client_of(remote) == counted


def post_signup(base: str, address: str, client: str) -> tuple[int, str]:
    form = urlencode({"email": address, "first_name": "Sam", "consent": "yes"}).encode()
    request = urllib.request.Request(f"{base}/subscribe", data=form, headers={"X-Forwarded-For": client})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.headers.get("Retry-After", ""))


def test_the_limit_holds_across_a_restart_of_serve(project: Path, on_each_backend: Path | str) -> None:
    """Two signups, stop `serve` (SIGINT, as systemd would), start it again: the third from the
    same client is still refused, with the same page and a Retry-After; another client is not."""
    env = {**REAL_SETTINGS, "NEWSLETTER_SIGNUP_PER_IP": "2", "NEWSLETTER_SERVE_TRUSTED_PROXY": "127.0.0.1"}
    with serving(project, env) as server:
        assert [post_signup(server.base, f"p{n}@example.org", "203.0.113.50")[0] for n in range(2)] == [200, 200]
    with serving(project, env) as server:
        code, retry_after = post_signup(server.base, "p2@example.org", "203.0.113.50")
        assert code == 429 and 3500 < int(retry_after) <= 3601
        assert post_signup(server.base, "p3@example.org", "203.0.113.51")[0] == 200
    with serving(project, env) as server:  # and again: a refused request did not reset anything
        assert post_signup(server.base, "p4@example.org", "203.0.113.50")[0] == 429
    written = sorted(p.name for p in (project / "outbox" / "confirmations").glob("*.eml"))
    assert written == ["p0@example.org.eml", "p1@example.org.eml", "p3@example.org.eml"]
    keys = [key for (key,) in query(on_each_backend, "SELECT key FROM client_limits")]
    # Three signups counted by client (two keys), three emails counted overall (guard.py: one key).
    assert len(keys) == 6 and len(set(keys)) == 3
    assert all(isinstance(key, bytes) and len(key) == 16 for key in keys)


def test_serve_starting_after_a_pause_forgets_what_no_longer_counts(tmp_path: Path, database: Path | str) -> None:
    db = connect(database)
    now = time.time()
    client_limits.hit(db, Window(10, HOUR), "signup", "203.0.113.7", now - 2 * HOUR)
    client_limits.hit(db, Window(10, HOUR), "signup", "203.0.113.8", now - HOUR / 2)
    db.close()
    web_app(tmp_path, database)
    assert query(database, "SELECT at FROM client_limits") == [(now - HOUR / 2,)]
