"""Importing a CSV into the list: hostile files give one clear error and change nothing, on
SQLite and a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.audience.importing import InvalidRows, import_subscribers, read_import
from newsletter.errors import InputError
from newsletter.store import Location, open_store
from tests.support.db import scalar, write

HEADER = "email,first_name,last_name,ward,tags,consented_at\n"


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])  # durable commits
@given(body=st.text(max_size=300))
def test_any_file_is_imported_or_refused_whole_and_twice_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, database: Location, body: str
) -> None:
    folder = tmp_path_factory.mktemp("import")
    path = folder / "list.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    if scalar(database, "SELECT count(*) FROM subscribers"):  # one database for every example: emptied
        write(database, "DELETE FROM consent_events")
        write(database, "DELETE FROM subscribers")
    with open_store(database) as store:
        try:
            first = import_subscribers(store.db, path)
        except InputError as exc:
            # One line, or one line per unreadable row (`InvalidRows`), each naming the file.
            lines = str(exc).split("\n")
            assert all(line.startswith(str(path)) for line in lines)
            assert len(lines) == 1 or isinstance(exc, InvalidRows)
            assert store.db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
            return
        second = import_subscribers(store.db, path)
        held = store.db.execute("SELECT count(*) FROM subscribers").fetchone()[0]
    assert held == first.added
    assert not second.changed and second.unchanged == first.added + first.updated


def test_a_row_without_consent_never_becomes_a_subscriber(tmp_path: Path, database: Location) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        HEADER + "a@example.org,A,,,,\nb@example.org,B,,,,not a date\nc@example.org,C,,,,2019-02-01\n", encoding="utf-8"
    )
    with open_store(database) as store:
        with pytest.raises(InvalidRows, match=r"list.csv:3: consented_at: 'not a date': not a date"):
            import_subscribers(store.db, path)
        assert store.db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
        report = import_subscribers(store.db, path, rows=read_import(path, skip_invalid=True))
        emails = [e for (e,) in store.db.execute("SELECT email FROM subscribers")]
    assert emails == ["c@example.org"] and report.counts() == {"no consent": 1, "unreadable value": 1}
