"""`newsletter log` and what the office's commands record, through the real CLI and database on
each backend: every staff action with its staff member (NEWSLETTER_STAFF, or the OS user said
so), an erased person's address nowhere in the log, `--verify` naming an edited or deleted
entry, exports that round-trip and never make a formula, and bad input refused in one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from newsletter.audit.log import FIELDS, canonical, entry_hash
from newsletter.gates.cells import restore
from newsletter.store.database import connect
from tests.conftest import Run

JO = {"NEWSLETTER_STAFF": "Jo Bloggs"}
ERASED = "margaret.hughes@example.org"
HOSTILE = "=cmd|' /C calc'!A0"


def ok(run_cli: Run, *args: str, env: dict[str, str] | None = None) -> str:
    done = run_cli(*args, env=JO if env is None else env)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout + done.stderr


def audit_rows(database: Path | str) -> list[dict[str, object]]:
    with connect(database) as db:
        return [dict(zip(FIELDS, row, strict=True)) for row in db.execute("SELECT * FROM audit_log ORDER BY id")]


def test_every_staff_action_is_logged_with_who_and_never_an_erased_address(
    run_cli: Run, on_each_backend: Path | str, tmp_path: Path
) -> None:
    ok(run_cli, "subscribers", "import", "subscribers.example.csv", "--source", "paper forms")
    ok(run_cli, "send", "spring-2018", "--to", ERASED)
    ok(run_cli, "send", "spring-2018")
    ok(run_cli, "subscribers", "edit", ERASED, "--ward", "Manor")
    ok(run_cli, "unsubscribe", "d.okafor@example.com")
    ok(run_cli, "suppressions", "remove", "d.okafor@example.com")
    ok(run_cli, "suppressions", "export", str(tmp_path / "suppressions.csv"))
    ok(run_cli, "subscribers", "export", str(tmp_path / "list.csv"))
    ok(run_cli, "subscribers", "export-person", ERASED)
    ok(run_cli, "subscribers", "erase", ERASED, "--yes")
    ok(run_cli, "send", "spring-2018", env={**JO, "NEWSLETTER_FOOTER_NOTE": "Promoted by Jo Bloggs"})
    refused = run_cli("send", "spring-2018", env={**JO, "SMTP_HOST": "127.0.0.1"})
    assert refused.returncode == 2 and "refusing to send real mail" in refused.stderr
    anonymous = run_cli("subscribers", "edit", "tom.whitworth@example.org", "--ward", "Heatons North")
    assert anonymous.returncode == 0, anonymous.stderr
    assert "recorded in the audit log as" in anonymous.stderr and "(the OS user)" in anonymous.stderr
    assert "NEWSLETTER_STAFF" in anonymous.stderr

    shown = ok(run_cli, "log").splitlines()
    actions = {
        "import", "send.test", "settings.changed", "send.started", "send.finished", "edit", "suppression.add",
        "suppression.remove", "export", "erase", "send.refused",
    }  # fmt: skip
    for action in actions:
        assert any("Jo Bloggs (NEWSLETTER_STAFF)" in line and f"  {action}  " in line for line in shown), action
    assert "(the OS user)" in [line for line in shown if "  edit  " in line][-1]

    rows = audit_rows(on_each_backend)
    assert ERASED not in repr(rows).lower() and "hughes" not in repr(rows).lower()
    by_action = {row["action"]: json.loads(str(row["details"])) for row in rows}  # the last of each
    assert by_action["import"]["file"] == "subscribers.example.csv" and len(by_action["import"]["sha256"]) == 64
    assert by_action["import"]["added"] == 18
    assert by_action["send.finished"]["outcome"] == "complete"
    assert by_action["settings.changed"]["changed"] == {
        "NEWSLETTER_FOOTER_NOTE": {"old": "", "new": "Promoted by Jo Bloggs"}
    }
    assert by_action["erase"]["records"] >= 3 and len(by_action["erase"]["address_hash"]) == 64
    assert ok(run_cli, "log", "--verify").count("the chain is intact") == 1


def test_verify_names_an_edited_entry_then_a_deleted_one(run_cli: Run, on_each_backend: Path | str) -> None:
    ok(run_cli, "unsubscribe", "a@example.org", "b@example.org", "c@example.org")
    with connect(on_each_backend) as db:
        db.execute("UPDATE audit_log SET host = 'elsewhere' WHERE id = 2")
    edited = run_cli("log", "--verify")
    assert edited.returncode == 1 and "entry 2: edited" in edited.stderr, edited.stderr
    assert "Traceback" not in edited.stderr
    with connect(on_each_backend) as db:
        db.execute("DELETE FROM audit_log WHERE id = 2")
    deleted = run_cli("log", "--verify")
    assert deleted.returncode == 1 and "entry 3: deleted: entry 2 missing" in deleted.stderr, deleted.stderr


def _recomputed(row: dict[str, object]) -> str:
    return entry_hash({**row, "id": int(str(row["id"])), "issue": row["issue"] or None})


def test_the_export_round_trips_and_makes_no_formula(run_cli: Run, on_each_backend: Path | str) -> None:
    ok(run_cli, "unsubscribe", "a@example.org", env={"NEWSLETTER_STAFF": HOSTILE})
    ok(run_cli, "send", "spring-2018", "--to", "me@example.org")
    stored = audit_rows(on_each_backend)
    assert stored[0]["staff"] == HOSTILE

    ok(run_cli, "log", "--out", "audit.csv")
    with Path("audit.csv").open(encoding="utf-8", newline="") as handle:
        read = list(csv.reader(handle))
    assert read[0] == list(FIELDS)
    assert read[1][FIELDS.index("staff")] == "'" + HOSTILE  # text to a spreadsheet, never a formula
    back = [dict(zip(FIELDS, (restore(cell) for cell in line), strict=True)) for line in read[1:]]
    assert [row["staff"] for row in back] == [row["staff"] for row in stored]
    assert [_recomputed(row) for row in back] == [row["hash"] for row in stored]

    ok(run_cli, "log", "--export", "audit.json")
    exported = json.loads(Path("audit.json").read_text(encoding="utf-8"))
    as_stored = [{**row, "details": canonical(row["details"])} for row in exported]
    assert as_stored == stored
    assert [_recomputed(row) for row in as_stored] == [row["hash"] for row in stored]

    again = run_cli("log", "--out", "audit.csv")
    assert again.returncode == 2 and "exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert Path("audit.csv").read_text(encoding="utf-8").startswith('"id"')
    wrong = run_cli("log", "--out", "audit.txt")
    assert wrong.returncode == 2 and ".csv or .json" in wrong.stderr and not Path("audit.txt").exists()


def test_since_and_issue_choose_entries_and_a_bad_date_is_one_line(run_cli: Run, on_each_backend: Path | str) -> None:
    ok(run_cli, "unsubscribe", "a@example.org")
    ok(run_cli, "send", "spring-2018", "--to", "me@example.org")
    assert "  send.test  spring-2018" in ok(run_cli, "log", "--issue", "spring-2018")
    assert "suppression.add" not in ok(run_cli, "log", "--issue", "spring-2018")
    assert "2 entries" in ok(run_cli, "log", "--since", "2000-01-01")
    assert "0 entries" in ok(run_cli, "log", "--since", "2999-01-01T10:00")
    bad = run_cli("log", "--since", "last tuesday")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[0].count("--since") == 1 and "YYYY-MM-DD" in bad.stderr


def test_log_in_a_project_without_a_database_creates_none(run_cli: Run, project: Path) -> None:
    for args in (("log",), ("log", "--verify"), ("log", "--out", "audit.csv")):
        done = run_cli(*args)
        assert done.returncode == 0 and "no audit log yet" in done.stdout, done.stderr
    assert not (project / ".newsletter").exists() and not (project / "audit.csv").exists()
