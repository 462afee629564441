"""Where mail goes is never a guess (issue 18): a misnamed setting is refused, every send names its
destination on its first line, and a rehearsal into the outbox never counts as sent for a relay."""

from __future__ import annotations

import ast
import os
import pty
import re
import select
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.cli.common import KNOWN_SETTINGS
from newsletter.errors import ConfigError
from newsletter.settings import FAMILIES, nearest_setting, refuse_unknown_settings
from newsletter.store import Location, exists, open_store, snapshots
from tests.conftest import REAL_SETTINGS, REPO, Run
from tests.support.db import query, scalar
from tests.support.sending import database_env
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(120)
NAME = re.compile(r"(?:SMTP|NEWSLETTER|UNSUBSCRIBE|DKIM)_[A-Z0-9_]+")


def relay(server: Server, **extra: str) -> dict[str, str]:
    return {**REAL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none", **extra}


def edit_article(project: Path) -> None:
    path = project / "articles" / "leaving-labour-party.md"
    text = path.read_text(encoding="utf-8")
    assert "she had expected to stay in the party" in text
    path.write_text(text.replace("had expected to stay", "had hoped to stay"), encoding="utf-8")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# --- a misnamed setting ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("SMTP_SERVER=127.0.0.1", "SMTP_HOST"),
        ("SMTP_USER=office", "SMTP_USERNAME"),
        ("smtp_host=127.0.0.1", "SMTP_HOST"),
        ("NEWSLETTER_FORM=News <news@stockport-office.test>", "NEWSLETTER_FROM"),
        ("UNSUBSCRIBE_SECRETS=abc", "UNSUBSCRIBE_SECRET"),
        ("DKIM_KEY=dkim.pem", "DKIM_PRIVATE_KEY"),
    ],
)
def test_a_misnamed_key_in_env_is_refused_with_did_you_mean_and_nothing_is_sent(
    project: Path, on_each_backend: Location, run_cli: Run, line: str, meant: str
) -> None:
    (project / ".env").write_text(line + "\n", encoding="utf-8")
    result = run_cli("send", "spring-2018", "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    errors = error_lines(result.stderr)
    key = line.partition("=")[0]
    assert len(errors) == 1 and f"{key} (in {project / '.env'}) is not a setting" in errors[0], result.stderr
    assert f"did you mean {meant}?" in errors[0]
    assert "Traceback" not in result.stderr
    assert not (project / "outbox").exists() and not exists(on_each_backend)


def test_a_misnamed_key_in_the_environment_is_refused_by_every_command(
    project: Path, on_each_backend: Location, run_cli: Run
) -> None:
    env = {"SMTP_SERVER": "mail.office.example"}
    for args in (("send", "spring-2018", "--dry-run"), ("status", "spring-2018"), ("build", "spring-2018")):
        result = run_cli(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert "SMTP_SERVER (in the environment) is not a setting; did you mean SMTP_HOST?" in result.stderr
    assert not exists(on_each_backend) and not (project / ".newsletter").exists()


def test_every_setting_the_code_reads_or_documents_is_known() -> None:
    """KNOWN_SETTINGS is gathered from the modules' own lists: a setting read anywhere in the
    source (or offered in .env.example) but missing from them would be refused as a typo."""
    read: set[str] = set()
    for path in (REPO / "src" / "newsletter").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.fullmatch(node.value):
                read.add(node.value)
    documented = set(NAME.findall((REPO / ".env.example").read_text(encoding="utf-8")))
    assert read and read <= KNOWN_SETTINGS, sorted(read - KNOWN_SETTINGS)
    assert documented <= KNOWN_SETTINGS, sorted(documented - KNOWN_SETTINGS)
    assert {"SMTP_HOST", "DKIM_SELECTOR", "NEWSLETTER_WARDS", "NEWSLETTER_SOFT_BOUNCE_LIMIT"} <= KNOWN_SETTINGS


@given(
    family=st.sampled_from(FAMILIES),
    rest=st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_abc"), min_size=0, max_size=24),
)
def test_any_key_of_our_families_is_known_or_refused_in_one_line(family: str, rest: str) -> None:
    key = family + rest
    try:
        refuse_unknown_settings({key: "x", "PATH": "/bin", "SMTPX": "y"}, KNOWN_SETTINGS)
    except ConfigError as exc:
        assert key not in KNOWN_SETTINGS
        message = str(exc)
        assert "\n" not in message and message.startswith(f"{key} (in the environment) is not a setting")
        nearest = nearest_setting(key, KNOWN_SETTINGS)
        assert nearest is None or (nearest in KNOWN_SETTINGS and f"did you mean {nearest}?" in message)
    else:
        assert key in KNOWN_SETTINGS


# --- the first line says where the mail goes --------------------------------------------------------
# SQLite only: the subject is the headline's wording, which the database does not change (the
# rehearsal and relay tests below run these sends on PostgreSQL too).
def test_every_send_says_first_where_the_mail_goes(project: Path, run_cli: Run) -> None:
    folder = project / "outbox" / "spring-2018"
    dry = run_cli("send", "spring-2018", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr.splitlines()[0] == (
        f"Dry run of spring-2018: nothing is sent or recorded; the send would go to the outbox folder {folder}."
    )
    test = run_cli("send", "spring-2018", "--to", "me@office.example")
    assert test.returncode == 0, test.stderr
    assert test.stderr.splitlines()[0].startswith(
        f"Test copy of spring-2018 for me@office.example into the outbox folder {folder}-test (a rehearsal"
    )
    sent = run_cli("send", "spring-2018", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert sent.stderr.splitlines()[0].startswith(f"Sending spring-2018 into the outbox folder {folder} (a rehearsal")
    with Server() as server:
        env = relay(server)
        where = f"the relay 127.0.0.1:{server.port} (no TLS: this machine only)"
        dry = run_cli("send", "spring-2018", "--dry-run", env=env)
        assert (
            dry.stderr.splitlines()[0]
            == f"Dry run of spring-2018: nothing is sent or recorded; the send would go to {where}."
        )
        test = run_cli("send", "spring-2018", "--to", "me@office.example", env=env)
        assert test.stderr.splitlines()[0] == f"Test copy of spring-2018 to me@office.example via {where}."
        sent = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", env=env)
        assert sent.stderr.splitlines()[0] == f"Sending spring-2018 via {where}.", sent.stderr
        secure = run_cli("send", "spring-2018", "--dry-run", env={**env, "SMTP_SECURITY": "starttls"})
        assert f"the relay 127.0.0.1:{server.port} (STARTTLS)." in secure.stderr.splitlines()[0]


# --- a rehearsal never counts as sent for the relay ------------------------------------------------
def test_the_outbox_is_a_rehearsal_the_relay_send_still_reaches_everyone(
    project: Path, on_each_backend: Location, run_cli: Run
) -> None:
    first = run_cli("send", "spring-2018", "--yes")
    again = run_cli("send", "spring-2018", "--yes")
    assert "18 sent to the outbox" in first.stdout, first.stdout + first.stderr
    assert "0 sent" in again.stdout and "18 skipped (already sent)" in again.stdout, "the quick start resumes"
    with Server() as server:
        env = relay(server)
        real = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", env=env)
        assert real.returncode == 0, real.stderr
        assert len(server.handler.received) == 18, "the rehearsal did not count as sent"
        rerun = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", env=env)
        assert "18 skipped (already sent)" in rerun.stdout and len(server.handler.received) == 18
    rows = query(on_each_backend, "SELECT route, state, count(*) FROM deliveries GROUP BY 1, 2 ORDER BY 1, 2")
    assert ("outbox", "sent", 18) in rows and ("smtp", "sent", 18) in rows
    status = run_cli("status", "spring-2018")
    assert status.returncode == 0, status.stderr
    relay_part, _, outbox_part = status.stdout.partition("into the outbox folder (a rehearsal")
    assert "through a relay (real mail):" in relay_part and re.search(r"\b18\s+sent\b", relay_part)
    assert f"127.0.0.1:{server.port}" in relay_part
    assert re.search(r"\b18\s+sent\b", outbox_part) and "the outbox" in outbox_part


@pytest.mark.usefixtures("on_each_backend")
def test_status_of_a_rehearsal_only_says_nothing_went_through_a_relay(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "spring-2018", "--yes").returncode == 0
    status = run_cli("status", "spring-2018")
    assert "through a relay (real mail): nothing recorded" in status.stdout, status.stdout


def test_the_archive_keeps_the_relay_sends_copy_not_the_rehearsals(
    project: Path, on_each_backend: Location, run_cli: Run
) -> None:
    """A rehearsal reached nobody: the first send through a relay replaces its snapshot (with no
    warning), and a later rehearsal never replaces the copy of what constituents got."""
    rehearsal = run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes")
    assert rehearsal.returncode == 0, rehearsal.stderr
    with open_store(on_each_backend) as store:
        rehearsed = snapshots.taken(store.db, "early-2019")
    edit_article(project)
    with Server() as server:
        real = run_cli(
            "send",
            "early-2019",
            "--allow-missing-images",
            "--subscribers",
            "subscribers.example.csv",
            "--yes",
            env=relay(server),
        )
        assert real.returncode == 0 and len(server.handler.received) == 18, real.stderr
    assert "warning" not in real.stderr, real.stderr
    with open_store(on_each_backend) as store:
        sent = snapshots.taken(store.db, "early-2019")
    assert rehearsed is not None and sent is not None and sent[1] != rehearsed[1], "the real send's copy is kept"


def test_a_rehearsal_after_the_relay_send_never_replaces_its_copy(
    project: Path, on_each_backend: Location, run_cli: Run
) -> None:
    with Server() as server:
        real = run_cli(
            "send",
            "early-2019",
            "--allow-missing-images",
            "--subscribers",
            "subscribers.example.csv",
            "--yes",
            env=relay(server),
        )
        assert real.returncode == 0 and len(server.handler.received) == 18, real.stderr
    with open_store(on_each_backend) as store:
        sent = snapshots.taken(store.db, "early-2019")
    edit_article(project)
    rehearsal = run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes")
    assert rehearsal.returncode == 0 and "18 sent to the outbox" in rehearsal.stdout, rehearsal.stderr
    with open_store(on_each_backend) as store:
        assert sent is not None and snapshots.taken(store.db, "early-2019") == sent


# --- a refused command writes nothing ----------------------------------------------------------------
def test_a_send_refused_for_a_utf16_subscriber_file_creates_nothing(
    project: Path, on_each_backend: Location, run_cli: Run
) -> None:
    listing = project / "list.csv"
    listing.write_text("email,consented_at\nann@example.org,2024-01-01\n", encoding="utf-16")
    one_off = run_cli("send", "spring-2018", "--subscribers", str(listing), "--yes")
    assert one_off.returncode == 2 and "not UTF-8" in one_off.stderr, one_off.stderr
    (project / "subscribers.csv").write_bytes(listing.read_bytes())  # what the first send imports
    seeded = run_cli("send", "spring-2018", "--yes")
    assert seeded.returncode == 2 and "subscribers.csv" in seeded.stderr and "not UTF-8" in seeded.stderr
    assert not exists(on_each_backend) and not (project / ".newsletter").exists()
    assert not (project / "outbox").exists()


def test_a_bounce_import_refused_for_a_bad_setting_creates_nothing(
    project: Path, on_each_backend: Location, run_cli: Run
) -> None:
    mbox = project / "bounces.mbox"
    mbox.write_text("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\nSubject: x\n\nhello\n", encoding="utf-8")
    result = run_cli("bounces", "import", str(mbox), env={"NEWSLETTER_SOFT_BOUNCE_LIMIT": "many"})
    assert result.returncode == 2 and "NEWSLETTER_SOFT_BOUNCE_LIMIT" in result.stderr, result.stderr
    assert not exists(on_each_backend) and not (project / ".newsletter").exists()


@pytest.mark.parametrize("address", ["a@b", "me@localhost", "me@-office.example"])
def test_to_takes_only_what_the_list_would_take(
    project: Path, on_each_backend: Location, run_cli: Run, address: str
) -> None:
    result = run_cli("send", "spring-2018", "--to", address)
    assert result.returncode == 2, result.stdout + result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == 1 and errors[0].startswith(f"error: --to {address!r}"), result.stderr
    assert not (project / "outbox").exists() and not exists(on_each_backend)


# --- declining the prompt ----------------------------------------------------------------------------
def answer_prompt(project: Path, env: dict[str, str], answer: bytes) -> tuple[int, str]:
    """Run `newsletter send` on a real terminal (a pty), answer its question, return the exit code
    and everything it showed."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(FAMILIES)}
    full_env.update({"NO_COLOR": "1", "COLUMNS": "200", "PYTHONUTF8": "1", **env})
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI with the pty as its terminal
        os.chdir(project)
        os.execve(
            sys.executable,
            [sys.executable, "-m", "newsletter", "send", "spring-2018", "--allow-missing-images"],
            full_env,
        )
    shown, answered = b"", False
    try:
        for _ in range(2000):  # bounded: each read waits at most 0.1 s for output
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal (EIO on Linux)
                    break
                if not chunk:
                    break
                shown += chunk
            if not answered and b"[y/N]" in shown:
                os.write(fd, answer)
                answered = True
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert answered, shown.decode(errors="replace")
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_declining_the_confirmation_sends_nothing_and_exits_1(project: Path, on_each_backend: Location) -> None:
    with Server() as server:
        code, shown = answer_prompt(project, {**relay(server), **database_env(on_each_backend)}, b"n\n")
        assert server.handler.received == []
    assert code == 1, shown
    assert "nothing sent" in shown and "aborted" not in shown
    assert scalar(on_each_backend, "SELECT count(*) FROM deliveries WHERE state = 'sent'") == 0
