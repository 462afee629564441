"""The test side of the fork server (`tests/support/zygote.py`): start it once per test
process, and run the CLI through it with `subprocess.run`'s answer (a `CompletedProcess`,
`TimeoutExpired` after killing the runner), so a test cannot tell the two apart."""

from __future__ import annotations

import json
import locale
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from tests.support.zygote import STATUS

HERE = Path(__file__).resolve().parent


class ForkServer:
    def __init__(self, env: dict[str, str]) -> None:
        self.folder = tempfile.mkdtemp(prefix="nlz")
        self.path = os.path.join(self.folder, "s")
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "zygote.py"), self.path],
            cwd=HERE.parent.parent,
            env={**env, "PYTHONPATH": str(HERE.parent.parent)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # bounded: the zygote prints "ready" or exits
        if line.strip() != "ready":
            self.process.kill()
            raise RuntimeError(f"the CLI fork server did not start (exit {self.process.wait()})")

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        for name in (self.path,):
            if os.path.exists(name):
                os.unlink(name)
        os.rmdir(self.folder)

    def run(
        self, args: list[str], env: dict[str, str], cwd: Path, input: str | None, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "newsletter", *args]
        with (
            tempfile.TemporaryFile() as stdin,
            tempfile.TemporaryFile() as stdout,
            tempfile.TemporaryFile() as stderr,
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
        ):
            if input is not None:
                stdin.write(input.encode(locale.getpreferredencoding(False)))
                stdin.seek(0)
            conn.settimeout(timeout)
            conn.connect(self.path)
            request = json.dumps({"args": args, "env": env, "cwd": str(cwd)}).encode() + b"\n"
            socket.send_fds(conn, [request], [stdin.fileno(), stdout.fileno(), stderr.fileno()])
            deadline = time.monotonic() + timeout
            _, pid = self._status(conn, deadline)
            try:
                kind, value = self._status(conn, deadline)
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                conn.settimeout(10)
                self._status(conn, time.monotonic() + 10)
                raise subprocess.TimeoutExpired(command, timeout, _text(stdout), _text(stderr)) from None
            code = value if kind == 1 else -value
            return subprocess.CompletedProcess(command, code, _text(stdout), _text(stderr))

    @staticmethod
    def _status(conn: socket.socket, deadline: float) -> tuple[int, int]:
        data = b""
        while len(data) < STATUS.size:
            conn.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                more = conn.recv(STATUS.size - len(data))
            except TimeoutError:
                raise TimeoutError from None
            if not more:
                raise RuntimeError("the CLI fork server's keeper went away")
            data += more
        kind, value = STATUS.unpack(data)
        return kind, value


def _text(stream: IO[bytes]) -> str:
    """What `subprocess.run(..., text=True)` makes of the bytes: the locale's encoding and
    universal newlines."""
    stream.seek(0)
    data = stream.read().decode(locale.getpreferredencoding(False))
    return data.replace("\r\n", "\n").replace("\r", "\n")
