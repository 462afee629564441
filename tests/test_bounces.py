"""Bounce and reply intake: each DSN shape classified; a mailbox imported through the real CLI,
matched to the journal by Message-ID, idempotent, and honoured by the next send."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from pathlib import Path

import pytest

from newsletter.audience.bounces import import_mailbox
from newsletter.audience.dsn import classify
from newsletter.audience.tokens import make_token
from newsletter.settings import Settings, load_settings
from newsletter.store import Location, connect, exists, suppressions, transaction
from tests.conftest import REAL_SETTINGS, Run
from tests.support.bounce_mail import EXPECTED, ORIGINAL_ID, fixture_text, parse, write_maildir, write_mbox

MAILTO = "unsubscribe@example.org"
LIST_ID = "Ann Coffey MP's newsletter <newsletter.stockport.example.org>"
SECRET = REAL_SETTINGS["UNSUBSCRIBE_SECRET"]
# The fixtures were mailed to the example list's unsubscribe address, under its List-Id.
ENV = {**REAL_SETTINGS, "NEWSLETTER_LIST_ID": LIST_ID, "UNSUBSCRIBE_MAILTO": MAILTO}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_shape_is_read(name: str) -> None:
    kind, address = EXPECTED[name]
    findings, _ = classify(parse(fixture_text(name)), MAILTO)
    assert [(f.kind, f.email) for f in findings] == [(kind, address)]
    if kind != "unsubscribe":
        assert findings[0].original_id == ORIGINAL_ID and findings[0].issue == "spring-2018"


def test_an_out_of_office_reply_is_not_a_bounce() -> None:
    assert classify(parse(fixture_text("auto-reply.eml")), MAILTO) == ([], "")


def test_a_delayed_notice_is_soft_and_an_ip_address_is_not_a_status() -> None:
    text = (
        fixture_text("postfix-hard.eml")
        .replace("Action: failed", "Action: delayed")
        .replace("Status: 5.1.1", "Status: 4.4.1")
        .replace("550 5.1.1", "host 10.4.5.6 timed out")
    )
    [finding] = classify(parse(text), MAILTO)[0]
    assert finding.kind == "soft" and finding.status == "4.4.1"


def settings_for(database: Location, **extra: str) -> Settings:
    return load_settings({**ENV, "NEWSLETTER_JOURNAL": str(database), **extra})


def journal_with(database: Location, rows: list[tuple[str, str, str]]) -> Location:
    """A database whose journal holds these (issue, email, Message-ID) deliveries, sent by relay."""
    with connect(database) as db, transaction(db):
        db.executemany(
            "INSERT INTO deliveries (issue, route, email, state, attempts, last_reply, message_id, created_at, "
            "updated_at) VALUES (?, 'smtp', ?, 'sent', 1, '250 ok', ?, 'now', 'now')",
            rows,
        )
    return database


def suppressed(database: Location) -> dict[str, str]:
    return {e: s.reason for e, s in suppressions.suppressed_addresses(database).items()}


def test_the_journal_message_id_wins_over_the_reported_address(tmp_path: Path, database: Location) -> None:
    """A forwarded address bounces under its new name; the journal knows who it was sent to."""
    journal = journal_with(database, [("spring-2018", "amina.hussain@example.com", "<spring-2018.aa11@x.test>")])
    mbox = write_mbox(tmp_path / "in.mbox", [fixture_text("postfix-hard.eml", message_id="<spring-2018.aa11@x.test>")])
    report = import_mailbox(mbox, settings_for(database))
    assert suppressed(journal) == {"amina.hussain@example.com": "hard-bounce"}
    assert "Message-ID <spring-2018.aa11@x.test>" in report.lines[0]


def test_soft_bounces_suppress_only_after_separate_issues(tmp_path: Path, database: Location) -> None:
    issues = ["spring-2018", "early-2019", "november-2019"]
    rows = [(issue, "tom.whitworth@example.org", f"<{issue}.b{n}@x.test>") for n, issue in enumerate(issues)]
    journal = journal_with(database, rows)
    settings = settings_for(database)

    def bounce(n: int, copy: int = 0) -> str:
        return fixture_text(
            "gmail-soft.eml",
            message_id=f"<{issues[n]}.b{n}@x.test>",
            **{"<5ac8c1f2.9d4a2e41.77c1.0e31.GMR@mx.google.com>": f"<soft{n}.{copy}@mx.test>"},
        )

    # two notices about the same issue count once
    import_mailbox(write_mbox(tmp_path / "1.mbox", [bounce(0), bounce(0, copy=1)]), settings)
    import_mailbox(write_mbox(tmp_path / "2.mbox", [bounce(1)]), settings)
    assert suppressed(journal) == {}
    report = import_mailbox(write_mbox(tmp_path / "3.mbox", [bounce(2)]), settings)
    assert suppressed(journal) == {"tom.whitworth@example.org": "soft-bounce"}
    assert report.counts["soft-bounce suppressed"] == 1


def test_the_soft_bounce_limit_is_a_setting(tmp_path: Path, database: Location) -> None:
    mbox = write_mbox(tmp_path / "in.mbox", [fixture_text("gmail-soft.eml")])
    import_mailbox(mbox, settings_for(database, NEWSLETTER_SOFT_BOUNCE_LIMIT="1"))
    assert suppressed(database) == {"tom.whitworth@example.org": "soft-bounce"}


def test_unsubscribe_mail_uses_the_signed_token_else_the_sender(tmp_path: Path, database: Location) -> None:
    token = make_token("w.bancroft@example.com", LIST_ID, SECRET)
    texts = [
        fixture_text("unsubscribe-mailto.eml", token=token),
        fixture_text(
            "unsubscribe-mailto.eml",
            token="forged.token",
            **{"<CAF3x9k2mQ7f8=Zr1vL@mail.example.org>": "<second@mail.example.org>"},
        ),
    ]
    import_mailbox(write_maildir(tmp_path / "Maildir", texts), settings_for(database))
    assert suppressed(database) == {
        "w.bancroft@example.com": "unsubscribed",
        "margaret.hughes@example.org": "unsubscribed",
    }


def outbox_ids(folder: Path) -> dict[str, str]:
    ids = {}
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        ids[message["To"].addresses[0].addr_spec] = str(message["Message-ID"])
    return ids


@pytest.mark.usefixtures("on_each_backend")
def test_a_bounce_mailbox_suppresses_for_the_next_send(project: Path, run_cli: Run) -> None:
    sent = run_cli(
        "send", "spring-2018", "--subscribers", "subscribers.example.csv", "--outbox", "first", "--yes", env=ENV
    )
    assert sent.returncode == 0, sent.stderr
    ids = outbox_ids(project / "first")
    token = make_token("margaret.hughes@example.org", LIST_ID, SECRET)
    texts = [fixture_text(name, message_id=ids[address], token=token) for name, (_, address) in EXPECTED.items()]
    texts.append(fixture_text("auto-reply.eml"))
    write_mbox(project / "bounces.mbox", texts)

    first = run_cli("bounces", "import", "bounces.mbox", env=ENV)
    assert first.returncode == 0, first.stderr
    assert "5 hard-bounce suppressed" in first.stdout and "1 complaint suppressed" in first.stdout
    assert "1 unsubscribed suppressed" in first.stdout and "1 soft bounce counted" in first.stdout
    assert "1 not a bounce" in first.stdout and "(Message-ID <spring-2018." in first.stdout
    listed = run_cli("suppressions", "list", env=ENV).stdout

    again = run_cli("bounces", "import", "bounces.mbox", env=ENV)
    assert again.returncode == 0 and "8 already imported" in again.stdout
    assert run_cli("suppressions", "list", env=ENV).stdout == listed

    second = run_cli(
        "send", "early-2019", "--subscribers", "subscribers.example.csv", "--outbox", "second", "--yes", env=ENV
    )
    assert second.returncode == 0, second.stderr
    gone = {a for name, (kind, a) in EXPECTED.items() if kind != "soft"}
    assert {p.stem for p in (project / "second").glob("*.eml")} == set(ids) - gone
    assert f"{len(gone)} suppressed" in second.stdout


@pytest.mark.usefixtures("on_each_backend")
def test_a_removed_address_stays_removed_when_an_old_mailbox_is_imported_again(project: Path, run_cli: Run) -> None:
    write_mbox(project / "old.mbox", [fixture_text("postfix-hard.eml")])
    assert run_cli("bounces", "import", "old.mbox").returncode == 0
    assert run_cli("suppressions", "remove", "d.okafor@example.com").returncode == 0
    again = run_cli("bounces", "import", "old.mbox")
    assert "1 already imported" in again.stdout
    assert "d.okafor" not in run_cli("suppressions", "list").stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.mbox", "missing.mbox: mailbox not found"),
        (lambda p: (p / "notes.txt", (p / "notes.txt").write_text("hello\n"))[0], "notes.txt:1: not an mbox file"),
        (lambda p: (p / "folder", (p / "folder").mkdir())[0], "folder: not a Maildir folder"),
    ],
)
def test_bad_mailbox_paths_are_one_line_and_exit_2(
    project: Path, run_cli: Run, on_each_backend: Location, make: Callable[[Path], Path], message: str
) -> None:
    path = make(project)
    result = run_cli("bounces", "import", str(path.name))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (project / ".newsletter").exists() and not exists(on_each_backend)
