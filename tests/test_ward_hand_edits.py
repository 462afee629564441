"""A ward set by hand (`subscribers add --ward`, `subscribers edit --ward`) must be one of
NEWSLETTER_WARDS when the office lists its wards there: a typo is refused in one line with the
closest ward (or the list), exit 2, nothing written; a match is stored as the setting spells it.
With NEWSLETTER_WARDS unset any ward is kept as given. Through the real CLI, on a real SQLite
file and a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.targeting import known_ward, norm
from newsletter.errors import InputError
from newsletter.gates.address import clean_name
from newsletter.store import Location, exists
from tests.conftest import Run
from tests.support.db import query

ANN = "ann@example.org"
LISTED = {"NEWSLETTER_WARDS": "Manor; Heatons North; Reddish South"}


def ward_of(location: Location) -> list[tuple[object, ...]]:
    return query(location, "SELECT ward FROM subscribers WHERE email = ?", (ANN,))


def add(run_cli: Run, ward: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = run_cli("subscribers", "add", ANN, "--ward", ward, "--consent", "phoned 3 May", env=env)
    return result.returncode, result.stderr


@pytest.mark.usefixtures("on_each_backend")
def test_add_refuses_a_ward_the_setting_does_not_list_and_writes_nothing(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    code, stderr = add(run_cli, "Manr", LISTED)
    assert code == 2 and stderr.count("\n") == 1, stderr
    assert stderr == "error: --ward: 'Manr' is not one of NEWSLETTER_WARDS; did you mean 'Manor'?\n"
    assert not exists(on_each_backend) and not (project / ".newsletter").exists()
    code, stderr = add(run_cli, "heatons   NORTH", LISTED)
    assert code == 0, stderr
    assert ward_of(on_each_backend) == [("Heatons North",)]  # as the setting spells it


@pytest.mark.usefixtures("on_each_backend")
def test_edit_refuses_a_ward_the_setting_does_not_list_and_changes_nothing(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    assert add(run_cli, "Manor", LISTED)[0] == 0
    before = query(on_each_backend, "SELECT * FROM consent_events")
    refused = run_cli("subscribers", "edit", ANN, "--ward", "Stockport", env=LISTED)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "--ward: 'Stockport' is not one of NEWSLETTER_WARDS" in refused.stderr
    assert "(NEWSLETTER_WARDS has: Heatons North, Manor, Reddish South)" in refused.stderr
    assert ward_of(on_each_backend) == [("Manor",)]
    assert query(on_each_backend, "SELECT * FROM consent_events") == before
    moved = run_cli("subscribers", "edit", ANN, "--ward", "reddish south", env=LISTED)
    assert moved.returncode == 0 and ward_of(on_each_backend) == [("Reddish South",)], moved.stderr
    cleared = run_cli("subscribers", "edit", ANN, "--ward", "", env=LISTED)
    assert cleared.returncode == 0 and ward_of(on_each_backend) == [("",)], cleared.stderr


@pytest.mark.usefixtures("on_each_backend")
def test_without_the_setting_any_ward_is_kept_as_given(project: Path, run_cli: Run, on_each_backend: Location) -> None:
    assert add(run_cli, "Manr")[0] == 0  # the example default the form offers is not the office's list
    assert ward_of(on_each_backend) == [("Manr",)]
    assert run_cli("subscribers", "edit", ANN, "--ward", "Anywhere").returncode == 0
    assert ward_of(on_each_backend) == [("Anywhere",)]


WARDS = ("Manor", "Heatons North", "Heatons South", "Brinnington and Central")


@given(typed=st.one_of(st.sampled_from([*WARDS, "manor ", "HEATONS  south", ""]), st.text(max_size=30)))
def test_any_ward_staff_type_is_a_listed_ward_or_refused_in_one_line(typed: str) -> None:
    given_ward = clean_name(typed)
    try:
        kept = known_ward("--ward", given_ward, WARDS, "NEWSLETTER_WARDS")
    except InputError as exc:
        message = str(exc)
        assert message.startswith("--ward: ") and "NEWSLETTER_WARDS" in message and "\n" not in message
        assert norm(given_ward) not in map(norm, WARDS)
        return
    assert kept == "" if not given_ward else kept in WARDS and norm(kept) == norm(given_ward)
