"""A ward or tag name that nobody in the list has stops every send that plans recipients (dry
run and real send; the list of record in SQLite, an empty database reading the seed list, a
one-off CSV) with one line naming the file, line and field, and the closest known ward; exit 2,
nothing sent or recorded. A typo in an edition's `wards:` would otherwise give that ward's
readers only the edition for everyone; in `audience: wards:` it would leave them out. Every send
here runs on SQLite and on PostgreSQL: the names are checked against the list as the database
returns it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.targeting import Name, check_names
from newsletter.errors import InputError
from newsletter.store import Location, exists
from tests.conftest import REAL_SETTINGS, Run
from tests.support.db import scalar, write

WARDS = [
    "Heatons North",
    "Heatons South",
    "Reddish North",
    "Reddish South",
    "Manor",
    "Brinnington and Central",
    "Edgeley and Cheadle Heath",
    "Davenport and Cale Green",
]
TYPO = "Heaton North"
HINT = "matches nobody in the subscriber list; did you mean 'Heatons North'?"


def misspell_edition(project: Path) -> str:
    """spring-2016's ward article for 'Heaton North' (a typo); returns the `path:line` of its entry."""
    path = project / "issues" / "spring-2016.yaml"
    text = path.read_text(encoding="utf-8").replace("[Heatons North, Heatons South]", f"[Heatons South, {TYPO}]")
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("  - slug: dementia-dols-red-tape") + 1
    return f"spring-2016.yaml:{line}: article 'dementia-dols-red-tape' wards: '{TYPO}' "


def misspell_audience(project: Path) -> str:
    path = project / "issues" / "spring-2018.yaml"
    text = path.read_text(encoding="utf-8") + f"audience:\n  wards: [Manor, {TYPO}]\n"
    path.write_text(text, encoding="utf-8")
    return f"spring-2018.yaml:{len(text.splitlines()) - 1}: audience wards: '{TYPO}' "


def import_list(run_cli: Run) -> None:
    result = run_cli("subscribers", "import", "subscribers.example.csv", "--source", "test list")
    assert result.returncode == 0, result.stderr


def deliveries(database: Location) -> int:
    return int(scalar(database, "SELECT count(*) FROM deliveries")) if exists(database) else 0


def assert_refused(result: subprocess.CompletedProcess[str], project: Path, database: Location, expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.rstrip().endswith(expected + HINT), result.stderr
    assert not (project / "outbox").exists() and deliveries(database) == 0


@pytest.mark.parametrize("source", ["database", "empty database (seed list)", "one-off CSV"])
@pytest.mark.parametrize("mode", ["--dry-run", "--yes"])
def test_a_misspelt_edition_ward_stops_the_send(
    project: Path, on_each_backend: Location, run_cli: Run, source: str, mode: str
) -> None:
    expected = misspell_edition(project)
    if source == "database":
        import_list(run_cli)
    extra = ["--subscribers", "subscribers.example.csv"] if source == "one-off CSV" else []
    # With an empty database a dry run reads the seed list and a real send imports it first.
    result = run_cli("send", "spring-2016", mode, *extra, env=REAL_SETTINGS)
    assert_refused(result, project, on_each_backend, expected)


@pytest.mark.parametrize("mode", ["--dry-run", "--yes"])
def test_a_misspelt_audience_ward_stops_a_send_from_the_database(
    project: Path, on_each_backend: Location, run_cli: Run, mode: str
) -> None:
    expected = misspell_audience(project)
    import_list(run_cli)
    assert_refused(run_cli("send", "spring-2018", mode, env=REAL_SETTINGS), project, on_each_backend, expected)


def test_a_misspelt_command_line_ward_stops_the_send(project: Path, on_each_backend: Location, run_cli: Run) -> None:
    import_list(run_cli)
    result = run_cli("send", "spring-2018", "--ward", TYPO, "--yes")
    assert_refused(result, project, on_each_backend, f"--ward: '{TYPO}' ")


def test_the_spelling_right_sends_the_ward_edition(project: Path, on_each_backend: Location, run_cli: Run) -> None:
    """The control: the same issue spelt right goes out, and 'heatons  north' (case, spaces) is the same ward."""
    path = project / "issues" / "spring-2016.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Heatons North", "heatons  north"), encoding="utf-8")
    import_list(run_cli)
    result = run_cli("send", "spring-2016", "--yes")
    assert result.returncode == 0, result.stderr
    assert deliveries(on_each_backend) == 18


def test_only_subscribed_people_count(project: Path, on_each_backend: Location, run_cli: Run) -> None:
    """Manor's readers have all unsubscribed: an edition for Manor would reach nobody."""
    import_list(run_cli)
    write(on_each_backend, "UPDATE subscribers SET status = 'unsubscribed' WHERE ward = 'Manor'")
    path = project / "issues" / "spring-2016.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Heatons South]", "Manor]"), encoding="utf-8")
    result = run_cli("send", "spring-2016", "--dry-run")
    assert result.returncode == 2 and "wards: 'Manor' matches nobody in the subscriber list" in result.stderr


def test_with_no_close_name_the_line_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as info:
        check_names([Name("tag", "xyzzy", "--tag")], WARDS, ["events", "schools"])
    assert str(info.value) == "--tag: 'xyzzy' matches nobody in the subscriber list (the list has: events, schools)"


def _respell(ward: str, data: st.DataObject) -> str:
    cased = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in ward)
    return data.draw(st.sampled_from(["", " ", "  "])) + cased.replace(" ", data.draw(st.sampled_from([" ", "  "])))


@given(st.data())
def test_any_spelling_of_a_known_ward_passes_and_any_other_name_fails(data: st.DataObject) -> None:
    known = data.draw(st.lists(st.sampled_from(WARDS), min_size=1, unique=True))
    ward = data.draw(st.sampled_from(known))
    check_names([Name("ward", _respell(ward, data), "f.yaml:3: audience wards")], known, [])
    other = data.draw(
        st.text(min_size=1).filter(lambda s: " ".join(s.split()).casefold() not in {w.casefold() for w in known})
    )
    with pytest.raises(InputError, match=r"^f\.yaml:3: audience wards: .* matches nobody in the subscriber list"):
        check_names([Name("ward", other, "f.yaml:3: audience wards")], known, [])
