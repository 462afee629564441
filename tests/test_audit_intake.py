"""The two ways addresses come into the list of record without a staff member typing them are
logged like the commands that do: `bounces import` (the suppressions it adds) and the first
send's automatic import of subscribers.csv. Through the real CLI and database on each backend:
the entry names NEWSLETTER_STAFF, the chain verifies, and no address is in the log or its export."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from newsletter.audience.importing import SEEDED
from tests.conftest import Run
from tests.support.bounce_mail import EXPECTED, fixture_text, write_maildir, write_mbox

JO = {"NEWSLETTER_STAFF": "Jo Bloggs"}
BY_JO = "Jo Bloggs (NEWSLETTER_STAFF)"


def ok(run_cli: Run, *args: str) -> str:
    done = run_cli(*args, env=JO)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout + done.stderr


def logged(run_cli: Run) -> tuple[list[str], list[dict[str, object]], str]:
    """The log as shown, as exported (JSON), and the export's text; the chain checked."""
    assert "the chain is intact" in ok(run_cli, "log", "--verify")
    ok(run_cli, "log", "--out", "audit.json")
    text = Path("audit.json").read_text(encoding="utf-8")
    Path("audit.json").unlink()
    return ok(run_cli, "log").splitlines(), json.loads(text), text


def no_address(addresses: set[str], *texts: str) -> None:
    for text in texts:
        for address in addresses:
            assert address.lower() not in text.lower() and address.split("@")[0] not in text.lower(), address


def test_a_bounce_import_logs_what_it_suppressed_and_by_whom(run_cli: Run, on_each_backend: object) -> None:
    names = ["postfix-hard.eml", "arf-complaint.eml", "gmail-soft.eml", "auto-reply.eml"]
    write_mbox(Path("bounces.mbox"), [fixture_text(name) for name in names])
    ok(run_cli, "bounces", "import", "bounces.mbox")
    ok(run_cli, "bounces", "import", "bounces.mbox")  # again: nothing new, and still the office's act
    write_maildir(Path("Maildir"), [fixture_text("gmail-hard.eml")])
    ok(run_cli, "bounces", "import", "Maildir")

    shown, exported, text = logged(run_cli)
    lines = [line for line in shown if "  suppression.add  " in line]
    assert len(lines) == 3 and all(BY_JO in line for line in lines), shown
    first, again, folder = (entry["details"] for entry in exported)
    assert isinstance(first, dict) and isinstance(again, dict) and isinstance(folder, dict)
    assert first["file"] == "bounces.mbox" and first["source"] == "bounces import"
    assert first["sha256"] == hashlib.sha256(Path("bounces.mbox").read_bytes()).hexdigest()
    assert (first["messages"], first["added"], first["reasons"]) == (4, 2, {"complaint": 1, "hard-bounce": 1})
    assert (again["added"], again["reasons"], again["sha256"]) == (0, {}, first["sha256"])
    assert folder["file"] == "Maildir" and folder["added"] == 1 and len(str(folder["sha256"])) == 64
    no_address({address for _, address in EXPECTED.values()}, "\n".join(shown), text)


def test_the_first_sends_import_of_subscribers_csv_is_logged(
    run_cli: Run, on_each_backend: object, project: Path
) -> None:
    (project / "subscribers.csv").write_bytes((project / "subscribers.example.csv").read_bytes())
    with (project / "subscribers.csv").open(encoding="utf-8", newline="") as handle:
        addresses = {row["email"] for row in csv.DictReader(handle)}
    dry = run_cli("send", "spring-2018", "--dry-run", env=JO)
    assert dry.returncode == 0 and "which a real send imports" in dry.stderr + dry.stdout, dry.stderr
    sent = ok(run_cli, "send", "spring-2018")
    assert "the list was empty: imported" in sent

    shown, exported, text = logged(run_cli)
    imports = [entry for entry in exported if entry["action"] == "import"]
    assert len(imports) == 1, exported  # the dry run imported nothing, so logged nothing
    [entry] = imports
    assert entry["staff"] == "Jo Bloggs" and entry["issue"] == "spring-2018"
    details = entry["details"]
    assert isinstance(details, dict) and details["source"] == SEEDED
    assert details["file"] == "subscribers.csv" and (details["rows"], details["added"], details["skipped"]) == (
        20,
        18,
        2,
    )
    assert details["sha256"] == hashlib.sha256((project / "subscribers.csv").read_bytes()).hexdigest()
    assert exported.index(entry) < [e["action"] for e in exported].index("send.started")
    [line] = [line for line in shown if "  import  " in line]
    assert BY_JO in line and "spring-2018" in line and "automatic import by the first send" in line
    no_address(addresses, "\n".join(shown), text)
