"""`newsletter db`: status, upgrade, backup and copy, on a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from newsletter.store import legacy, schema
from tests.conftest import Run
from tests.support.db import query, scalar
from tests.support.postgres import Cluster

pytestmark = pytest.mark.usefixtures("on_each_backend")


def _import(run_cli: Run) -> None:
    done = run_cli("subscribers", "import", "subscribers.example.csv", "--source", "paper forms, 2018 surgeries")
    assert done.returncode == 0, done.stderr


def test_status_before_anything_says_so_and_creates_nothing(run_cli: Run, project: Path) -> None:
    done = run_cli("db", "status")
    assert done.returncode == 0, done.stderr
    assert "No database yet" in done.stdout
    assert not (project / ".newsletter").exists()


def test_status_names_the_backend_the_schema_and_the_counts(
    run_cli: Run, on_each_backend: Path | str, backend: str
) -> None:
    _import(run_cli)
    done = run_cli("db", "status")
    assert done.returncode == 0, done.stderr
    assert f"({backend}), schema {schema.head()}: current" in done.stdout
    subscribed = scalar(on_each_backend, "SELECT count(*) FROM subscribers")
    assert subscribed > 0
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert ["subscribers", f"{subscribed:,}"] in rows
    assert "password" not in done.stdout


def test_upgrade_of_a_current_database_changes_nothing(run_cli: Run) -> None:
    _import(run_cli)
    done = run_cli("db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "nothing to do" in done.stdout


def test_a_backup_restores_into_an_empty_database_with_every_row(
    run_cli: Run, project: Path, on_each_backend: Path | str, pg_cluster: Cluster
) -> None:
    _import(run_cli)
    erase = run_cli("subscribers", "erase", "margaret.hughes@example.org", "--yes")
    assert erase.returncode == 0, erase.stderr
    done = run_cli("db", "backup", "backups/first.sqlite3")
    assert done.returncode == 0, done.stderr
    backup = project / "backups" / "first.sqlite3"
    assert query(backup, "SELECT email FROM subscribers ORDER BY email") == query(
        on_each_backend, "SELECT email FROM subscribers ORDER BY email"
    )
    assert not list(backup.parent.glob(".*tmp*"))  # no temporary left beside it
    again = run_cli("db", "backup", "backups/first.sqlite3")
    assert again.returncode == 2 and "already exists" in again.stderr
    target = pg_cluster.new_database()
    restored = run_cli("db", "copy", "--from", "backups/first.sqlite3", "--to", target)
    assert restored.returncode == 0, restored.stderr
    assert "verified" in restored.stdout
    for table in ("subscribers", "consent_events", "suppressed_hashes", "meta"):
        assert sorted(query(target, f"SELECT * FROM {table}")) == sorted(
            query(on_each_backend, f"SELECT * FROM {table}")
        )


def test_the_copy_keeps_the_erasure_key_so_an_erased_person_stays_out(
    run_cli: Run, project: Path, pg_cluster: Cluster
) -> None:
    _import(run_cli)
    assert run_cli("subscribers", "erase", "margaret.hughes@example.org", "--yes").returncode == 0
    target = pg_cluster.new_database()
    assert run_cli("db", "copy", "--to", target).returncode == 0
    moved = run_cli("subscribers", "import", "subscribers.example.csv", env={"NEWSLETTER_DATABASE": target})
    assert moved.returncode == 0, moved.stderr
    assert query(target, "SELECT email FROM subscribers WHERE email = 'margaret.hughes@example.org'") == []


def test_a_copy_into_a_database_that_holds_anything_is_refused(run_cli: Run, pg_cluster: Cluster) -> None:
    _import(run_cli)
    target = pg_cluster.new_database()
    assert run_cli("db", "copy", "--to", target).returncode == 0
    before = query(target, "SELECT count(*) FROM consent_events")
    again = run_cli("db", "copy", "--to", target)
    assert again.returncode == 2
    assert "not empty" in again.stderr and "Traceback" not in again.stderr
    assert query(target, "SELECT count(*) FROM consent_events") == before


def test_a_copy_from_nowhere_is_one_line(run_cli: Run, project: Path, pg_cluster: Cluster) -> None:
    done = run_cli("db", "copy", "--from", "missing.sqlite3", "--to", pg_cluster.new_database())
    assert done.returncode == 2
    assert "missing.sqlite3: there is no database here" in done.stderr
    assert "Traceback" not in done.stderr and not (project / "missing.sqlite3").exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_file_from_before_alembic_is_refused_until_upgraded(run_cli: Run, project: Path) -> None:
    path = project / ".newsletter" / "newsletter.sqlite3"
    path.parent.mkdir()
    made = sqlite3.connect(path)  # the file an earlier release left: its own schema, user_version 5
    for script in legacy.MIGRATIONS:
        made.executescript(script)
    made.execute(f"PRAGMA user_version = {legacy.VERSION}")
    made.execute(
        "INSERT INTO subscribers (email, status, created_at, updated_at) VALUES "
        "('kept@example.org', 'subscribed', '2018-01-01', '2018-01-01')"
    )
    made.commit()
    made.close()
    refused = run_cli("subscribers", "list")
    assert refused.returncode == 2
    assert str(path) in refused.stderr and "newsletter db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr
    upgraded = run_cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from schema before Alembic to {schema.head()}" in upgraded.stdout
    listed = run_cli("subscribers", "list")
    assert listed.returncode == 0, listed.stderr
    assert "kept@example.org" in listed.stdout


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_password_in_the_database_url_is_never_printed(run_cli: Run, pg_cluster: Cluster) -> None:
    url = pg_cluster.new_database().replace("postgresql://newsletter@", "postgresql://newsletter:s3cret-word@")
    env = {"NEWSLETTER_DATABASE": url}
    outputs = [
        run_cli("send", "spring-2018", "--dry-run", env=env),
        run_cli("db", "status", env=env),
        run_cli("suppressions", "list", env=env),
        run_cli("db", "backup", "b.sqlite3", env=env),
    ]
    for done in outputs:
        assert "s3cret-word" not in done.stdout + done.stderr
    assert outputs[1].returncode == 0 and "newsletter:***@127.0.0.1" in outputs[1].stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from newsletter.store.schema import _config

    assert ScriptDirectory.from_config(_config()).get_current_head() == schema.head()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("url", ["mysql://office@db.example.org/news", "sqlite:///list.db", "http://example.org/x"])
def test_a_database_url_of_another_kind_is_refused_not_taken_for_a_file(run_cli: Run, project: Path, url: str) -> None:
    scheme = url.split(":", 1)[0]
    copied = run_cli("db", "copy", "--to", url)
    setting = run_cli("subscribers", "list", env={"NEWSLETTER_DATABASE": url})
    option = run_cli("send", "spring-2018", "--dry-run", "--database", url)
    for done, field in ((copied, "--to"), (setting, "NEWSLETTER_DATABASE"), (option, "--database")):
        assert done.returncode == 2, done.stderr
        assert f"{field}: {scheme}:// is not a database this tool reads" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (project / f"{scheme}:").exists() and not (project / ".newsletter").exists()
