"""Shared fixtures: a throw-away copy of the example project, and the real CLI."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.support.forked_cli import ForkServer
from tests.support.postgres import Cluster, binaries

REPO = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property-based tests: a bounded profile for the suite (CI and local runs alike), and a long one
# for `benchmarks/hostile_long.py`-style runs (`HYPOTHESIS_PROFILE=long`).
hypothesis_settings.register_profile(
    "suite", max_examples=60, deadline=None, derandomize=CI, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "long",
    max_examples=int(os.environ.get("HYPOTHESIS_LONG_EXAMPLES", "10000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# Settings a real send accepts (no outward-facing example value left); tests that need them ask.
REAL_SETTINGS = {
    "NEWSLETTER_FROM": "Ann Coffey MP <news@stockport-office.test>",
    "NEWSLETTER_REPLY_TO": "Office of Ann Coffey MP <office@stockport-office.test>",
    "NEWSLETTER_LIST_ID": "Ann Coffey MP's newsletter <newsletter.stockport-office.test>",
    "NEWSLETTER_POSTAL_ADDRESS": "Office of Ann Coffey MP\\n12 Test Row\\nStockport SK1 3XE",
    "NEWSLETTER_WEBSITE": "https://www.stockport-office.test",
    "NEWSLETTER_ARCHIVE_URL": "https://www.stockport-office.test/newsletter/",
    "UNSUBSCRIBE_URL": "https://www.stockport-office.test/unsubscribe",
    "UNSUBSCRIBE_MAILTO": "unsubscribe@stockport-office.test",
    "UNSUBSCRIBE_SECRET": "a-test-secret-that-is-long-enough",
}


def require(condition: bool, what: str) -> None:
    """Skip when a real part is missing on a developer machine; fail under CI (`CI=true`)."""
    if condition:
        return
    if CI:
        pytest.fail(f"{what} is required under CI but missing")
    pytest.skip(f"{what} is not available here")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example project (issues, articles, templates, subscribers) as the cwd,
    with no `.env` and none of the developer's NEWSLETTER_/SMTP_/UNSUBSCRIBE_ settings."""
    root = tmp_path / "office"
    root.mkdir()
    for name in ("issues", "articles", "templates", "images"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "subscribers.example.csv", root / "subscribers.example.csv")
    for key in list(os.environ):
        if key.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(root)
    return root


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def fork_server() -> Iterator[ForkServer | None]:
    """One fork server per test process (`tests/support/zygote.py`), or None with
    NEWSLETTER_TESTS_SUBPROCESS=1, which makes `run_cli` start a whole new Python every time."""
    if os.environ.get("NEWSLETTER_TESTS_SUBPROCESS") or not hasattr(os, "fork"):
        yield None
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    server = ForkServer({**env, "PYTHONUTF8": "1"})
    yield server
    server.close()


@pytest.fixture
def run_cli(project: Path, fork_server: ForkServer | None) -> Run:
    """Run the real `newsletter` CLI in a new process in the project folder: forked from a
    process that has already imported it (the same code, a second less each call), or with
    NEWSLETTER_TESTS_SUBPROCESS=1 a whole new `python -m newsletter`."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        # The developer's settings stay out; NEWSLETTER_DATABASE is only there when `on_each_backend` put it.
        full_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_")) or k == "NEWSLETTER_DATABASE"
        }
        full_env.update({"NO_COLOR": "1", "COLUMNS": "200", "PYTHONUTF8": "1"})
        full_env.update(env or {})
        if fork_server is not None:
            return fork_server.run(list(args), full_env, cwd or project, input, timeout)
        return subprocess.run(
            [sys.executable, "-m", "newsletter", *args],
            cwd=cwd or project,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def node_available() -> bool:
    return shutil.which("node") is not None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One real headless Chromium (Debian's, at /usr/bin/chromium) per test module, via Playwright.

    Per module, not per session: while sync Playwright runs, its event loop counts as running in
    the main thread, so a later test's `asyncio.run()` (the SMTP tests) would fail.

    Tests open their own context (`chromium.new_context(bypass_csp=True)` when axe-core is injected).
    """
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, chromium_available

    require(chromium_available(), str(CHROMIUM))
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as exc:
        playwright.stop()
        pytest.fail(f"Playwright could not start {CHROMIUM}: {exc}")
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL server for the whole run (tests/support/postgres.py)."""
    bindir = binaries()
    require(bindir is not None, "PostgreSQL's initdb (Debian package postgresql)")
    assert bindir is not None
    cluster = Cluster(bindir).start()
    yield cluster
    cluster.remove()


def own_server() -> Iterator[Cluster]:
    """A PostgreSQL server for the tests that stop or restart it (yield from it in a fixture):
    the session's shared one (`pg_cluster`) must never be while other tests use it."""
    bindir = binaries()
    require(bindir is not None, "PostgreSQL's initdb (Debian package postgresql)")
    assert bindir is not None
    cluster = Cluster(bindir).start()
    yield cluster
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped if a test failed mid-outage
        cluster.remove()


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test that asks runs twice: on a SQLite file and on a real PostgreSQL server."""
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path | str]:
    """A fresh, empty database on this test's backend: a file path, or a postgresql:// URL."""
    if backend == "sqlite":
        yield tmp_path / "db" / "newsletter.sqlite3"
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    yield url
    release(url)


def release(url: str) -> None:
    """Close the pooled connections a web app in the test kept (`serve` pools them per
    database): otherwise each test's database holds one server connection for the whole run."""
    from newsletter.store.connection import engine

    engine(url, pooled=True).dispose()


@pytest.fixture
def on_each_backend(
    database: Path | str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Path | str:
    """For tests of whole commands: on PostgreSQL, NEWSLETTER_DATABASE names this test's database
    (the environment wins over `.env`; `run_cli` passes it on). On SQLite the project keeps its
    default file, which is what this returns."""
    if "project" in request.fixturenames:
        root: Path = request.getfixturevalue("project")  # first: it clears NEWSLETTER_ settings
    else:
        root = Path.cwd()
    if isinstance(database, str):
        monkeypatch.setenv("NEWSLETTER_DATABASE", database)
        return database
    return root / ".newsletter" / "newsletter.sqlite3"
