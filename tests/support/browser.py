"""Real parts for the preview tests: the `newsletter preview` process and Debian's Chromium.

Chromium is the system one (`/usr/bin/chromium`); Playwright never downloads a browser here.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts" / "preview"
T = TypeVar("T")


def chromium_available() -> bool:
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


class Preview:
    """`python -m newsletter preview ISSUE --no-browser --port 0 ...` running in `cwd`."""

    def __init__(self, cwd: Path, issue: str, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
        full_env.update({"NO_COLOR": "1", "COLUMNS": "200", "PYTHONUTF8": "1", "PYTHONUNBUFFERED": "1"})
        full_env.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "preview", issue, "--no-browser", "--port", "0", *args],
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout_lines: queue.Queue[str] = queue.Queue()
        self.stderr_text: list[str] = []
        self.pumps = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.stdout_lines.put), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr_text.append), daemon=True),
        ]
        for pump in self.pumps:
            pump.start()
        self.url = self._read_url(timeout=60)
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])

    @staticmethod
    def _pump(stream: Any, put: Callable[[str], None]) -> None:
        for line in stream:
            put(line)

    def _read_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.stdout_lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            for word in line.split():
                if word.startswith("http://127.0.0.1:"):
                    return word
        self.process.kill()
        raise AssertionError(f"no URL printed; stdout={''.join(seen)!r} stderr={''.join(self.stderr_text)!r}")

    def get(self, path: str, *, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """A raw GET: the path goes on the request line exactly as given (no normalising)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", host or f"127.0.0.1:{self.port}")
            connection.endheaders()
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def state(self, subscriber: str | None = None) -> dict[str, Any]:
        status, _headers, body = self.get("/state.json" + (f"?subscriber={subscriber}" if subscriber else ""))
        assert status == 200, body
        result: dict[str, Any] = json.loads(body)
        return result

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a person would; returns the exit code and everything on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pump in self.pumps:  # everything the process wrote, up to its end of file
            pump.join(timeout=10)
        return self.process.returncode, "".join(self.stderr_text)


@contextmanager
def preview(cwd: Path, issue: str = "spring-2018", *args: str, env: dict[str, str] | None = None) -> Iterator[Preview]:
    running = Preview(cwd, issue, *args, env=env)
    try:
        yield running
    finally:
        running.stop()


def wait_for(condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.02) -> T:
    """Poll until `condition()` is truthy; fail naming `what` after `timeout` seconds (a cap for a
    machine that is busy, never a measure of speed: that is the benchmarks')."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def edit(path: Path, old: str, new: str) -> None:
    """Change a file in place, as most editors save."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def save_by_rename(path: Path, text: str) -> None:
    """Save as editors that write a new file and rename it over the old one (vim, VS Code)."""
    temporary = path.with_name(f".{path.name}.saving")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
