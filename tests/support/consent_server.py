"""A real `newsletter serve` subprocess on a free loopback port, stopped cleanly afterwards."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Server:
    base: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[str]
    banner: str = ""  # the line `serve` printed when it started
    log: list[str] = field(default_factory=list)  # its standard error so far, line by line (the request log)
    logged: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_log(self, text: str, timeout: float = 10) -> str:
        """The first line of standard error containing `text`, waiting for it to be written."""
        with self.logged:
            self.logged.wait_for(lambda: any(text in line for line in self.log), timeout=timeout)
            found = [line for line in self.log if text in line]
        assert found, f"serve never logged {text!r}; it logged {self.log[-5:]}"
        return found[0]


def _read_log(server: Server) -> None:
    """Keeps the stderr pipe drained (a full pipe would block the server) and the lines kept."""
    assert server.process.stderr is not None
    for line in server.process.stderr:
        with server.logged:
            server.log.append(line.rstrip("\n"))
            server.logged.notify_all()


@contextmanager
def serving(project: Path, env: dict[str, str], *args: str) -> Iterator[Server]:
    """Start `newsletter serve --port 0 [args]`, read the URL it prints, stop it with SIGINT (Ctrl-C)."""
    # The developer's settings stay out; NEWSLETTER_DATABASE is only there when `on_each_backend` put it.
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_")) or k == "NEWSLETTER_DATABASE"
    }
    full_env.update({"NO_COLOR": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **env})
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--port", "0", *args],
        cwd=project,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader: threading.Thread | None = None
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            process.kill()
            raise AssertionError(f"serve printed {line!r}; stderr: {process.communicate(timeout=10)[1]}")
        server = Server(f"http://127.0.0.1:{match.group(1)}", process, line)
        reader = threading.Thread(target=_read_log, args=(server,), daemon=True)
        reader.start()
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)  # a loaded machine (two test processes) can take a while to stop
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if reader is not None:
            reader.join(timeout=10)  # every line it wrote is in `log` once the block ends


def request(url: str, data: bytes | None = None, method: str | None = None) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) without raising on 4xx/5xx."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8")
