"""Staff edits never lose data, through the real CLI on a real SQLite file and a real PostgreSQL
server: `subscribers add` on a listed address refuses, `subscribers edit` changes only what it is
given and logs the old and new values with who made the change."""

from __future__ import annotations

import getpass
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.store import Location, exists, open_store
from newsletter.store.consent import Evidence, events
from newsletter.store.edits import Edit, describe, edit
from newsletter.store.subscribers import add_by_staff, add_pending, get
from tests.conftest import Run
from tests.support.db import query as rows

pytestmark = pytest.mark.usefixtures("on_each_backend")

ANN = "ann@example.org"


def query(location: Location, sql: str, *params: str) -> list[tuple[object, ...]]:
    return rows(location, sql, params)


def person(location: Location) -> list[tuple[object, ...]]:
    return query(location, "SELECT first_name, last_name, ward, tags, status FROM subscribers WHERE email = ?", ANN)


def add_ann(run_cli: Run) -> None:
    added = run_cli(
        "subscribers", "add", ANN, "--first-name", "Ann", "--last-name", "Lee", "--ward", "Manor",
        "--tag", "schools", "--tag", "events", "--consent", "signed form, surgery 3 May",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def test_add_on_a_listed_address_refuses_in_one_line_and_changes_nothing(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    add_ann(run_cli)
    before = query(on_each_backend, "SELECT * FROM consent_events")
    again = run_cli("subscribers", "add", ANN.upper(), "--consent", "phoned")
    assert again.returncode == 2, again.stderr
    assert again.stderr.count("\n") == 1 and "already on the list (subscribed)" in again.stderr
    assert f"newsletter subscribers edit {ANN}" in again.stderr and "Traceback" not in again.stderr
    assert person(on_each_backend) == [("Ann", "Lee", "Manor", "schools;events", "subscribed")]
    assert query(on_each_backend, "SELECT * FROM consent_events") == before


def test_a_pending_signup_is_not_overwritten_by_add_either(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    with open_store(on_each_backend) as store:
        add_pending(store.db, ANN, "Ann", "", "Manor", ["schools"], Evidence("web-form"))
    again = run_cli("subscribers", "add", ANN, "--consent", "phoned")
    assert again.returncode == 2 and "already on the list (pending)" in again.stderr
    assert person(on_each_backend) == [("Ann", "", "Manor", "schools", "pending")]


def test_edit_changes_only_what_it_is_given_and_logs_old_and_new_with_the_staff_member(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    add_ann(run_cli)
    result = run_cli(
        "subscribers", "edit", ANN, "--ward", "Heatons North", "--tag", "Transport", "--untag", "schools",
        env={"NEWSLETTER_STAFF": "Jo Bloggs"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ward Manor -> Heatons North" in result.stdout and "tags schools;events -> events;transport" in result.stdout
    assert person(on_each_backend) == [("Ann", "Lee", "Heatons North", "events;transport", "subscribed")]
    [(kind, source, detail, actor)] = query(
        on_each_backend,
        "SELECT kind, source, detail, actor FROM consent_events WHERE kind = 'edited' AND email = ?",
        ANN,
    )
    assert (kind, source, actor) == ("edited", "staff", "Jo Bloggs (NEWSLETTER_STAFF)")
    assert detail == 'ward: "Manor" -> "Heatons North"; tags: "schools;events" -> "events;transport"'

    cleared = run_cli("subscribers", "edit", ANN, "--last-name", "")
    assert cleared.returncode == 0 and "last_name Lee -> (none)" in cleared.stdout
    assert person(on_each_backend) == [("Ann", "", "Heatons North", "events;transport", "subscribed")]
    last = query(
        on_each_backend, "SELECT detail, actor FROM consent_events WHERE email = ? ORDER BY id DESC LIMIT 1", ANN
    )
    assert last == [('last_name: "Lee" -> ""', f"{getpass.getuser()} (OS user)")]
    show = run_cli("subscribers", "show", ANN)
    assert "edited (staff): ward" in show.stdout and "Jo Bloggs (NEWSLETTER_STAFF)" in show.stdout


def test_newsletter_staff_is_a_setting_every_command_accepts(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    """Set once in a desk's environment, it must not stop a send as an unknown setting."""
    dry = run_cli("send", "spring-2018", "--dry-run", env={"NEWSLETTER_STAFF": "Jo Bloggs"})
    assert dry.returncode == 0 and "NEWSLETTER_STAFF" not in dry.stderr, dry.stderr


def test_an_edit_that_changes_nothing_records_nothing(project: Path, run_cli: Run, on_each_backend: Location) -> None:
    add_ann(run_cli)
    before = query(on_each_backend, "SELECT * FROM consent_events")
    same = run_cli("subscribers", "edit", ANN, "--ward", "Manor", "--tag", "schools", "--untag", "housing")
    assert same.returncode == 0 and "nothing changed" in same.stdout
    assert query(on_each_backend, "SELECT * FROM consent_events") == before


def test_edit_refusals_are_one_line_exit_2_and_write_nothing(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    missing = run_cli("subscribers", "edit", ANN, "--ward", "Manor")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "not on the list" in missing.stderr
    assert not exists(on_each_backend) and not (project / ".newsletter").exists(), "a refused edit created the database"
    add_ann(run_cli)
    before = (person(on_each_backend), query(on_each_backend, "SELECT * FROM consent_events"))
    for args in (
        ("bob@example.org", "--ward", "Manor"),
        (ANN,),
        ("not an address", "--ward", "Manor"),
        (ANN, "--tag", "a;b"),
        (ANN, "--tag", "x", "--untag", "X"),
    ):
        result = run_cli("subscribers", "edit", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:"), (args, result.stderr)
    assert (person(on_each_backend), query(on_each_backend, "SELECT * FROM consent_events")) == before


# No control characters: the CLI's gate (`gates.address.clean_name`) makes them spaces before a
# value reaches the store (and PostgreSQL refuses NUL in text; the gate's own tests cover them).
names = st.one_of(
    st.none(), st.text(st.characters(codec="utf-8", exclude_characters=";", exclude_categories=["Cc"]), max_size=12)
)
tags = st.lists(st.sampled_from(["schools", "events", "transport", "housing"]), max_size=3)


PEOPLE = itertools.count()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one database, a new person per example
@given(first=names, last=names, ward=names, tag=tags, untag=tags)
def test_an_edit_changes_exactly_the_fields_it_names(
    database: Location, first: str | None, last: str | None, ward: str | None, tag: list[str], untag: list[str]
) -> None:
    """Whatever an edit names: fields it does not name keep their value, and the event lists
    exactly the fields whose value differs."""
    tag = [t for t in tag if t not in untag]
    ann = f"ann{next(PEOPLE)}@example.org"
    with open_store(database) as store:
        add_by_staff(store.db, ann, "Ann", "Lee", "Manor", ["schools", "events"], "2020-01-01", Evidence("staff"))
        old = get(store.db, ann)
        changed = edit(store.db, ann, Edit(first, last, ward, tuple(tag), tuple(untag)), "tester (OS user)")
        new = get(store.db, ann)
        assert old is not None and new is not None
        for name, asked in (("first_name", first), ("last_name", last), ("ward", ward)):
            expected = getattr(old, name) if asked is None else asked
            assert getattr(new, name) == expected
            assert (name in changed) == (expected != getattr(old, name))
        assert set(new.tags) == (set(old.tags) - set(untag)) | set(tag)
        assert new.status == old.status and new.consented_at == old.consented_at
        logged = [e for e in events(store.db, ann) if e.kind == "edited"]
        assert len(logged) == (1 if changed else 0)
        if changed:
            assert logged[0].detail == describe(changed) and logged[0].actor == "tester (OS user)"
