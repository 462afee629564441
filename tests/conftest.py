"""Shared fixtures: a throw-away copy of the example project, and the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Settings a real send accepts (not the example sender or secret); tests that need them ask.
REAL_SETTINGS = {
    "NEWSLETTER_FROM": "Ann Coffey MP <news@stockport-office.test>",
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
    for name in ("issues", "articles", "templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "subscribers.example.csv", root / "subscribers.example.csv")
    for key in list(os.environ):
        if key.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(root)
    return root


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(project: Path) -> Run:
    """Run the real `newsletter` CLI in a subprocess in the project folder."""

    def run(
        *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
        full_env.update({"NO_COLOR": "1", "COLUMNS": "200", "PYTHONUTF8": "1"})
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "newsletter", *args],
            cwd=project,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def node_available() -> bool:
    return shutil.which("node") is not None
