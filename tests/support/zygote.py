"""A fork server for the tests' `run_cli`: the real CLI in a fresh process, without paying
Python's start-up and the CLI's imports (about a second of CPU) for each of the suite's
hundreds of calls.

Run as `python tests/support/zygote.py SOCKET`: the zygote imports `newsletter.cli` (and the
modules a send loads later), then listens on a Unix socket. For each request it forks a
*keeper*, which forks the *runner* and waits for it; the keeper is single-threaded, so it can
report the runner's real wait status (an exit code, or a signal as `-N` like `subprocess`).
The runner takes the test's stdin/stdout/stderr (three file descriptors passed over the socket),
its working folder, its whole environment and its arguments, and runs `newsletter.cli.main`
exactly as `python -m newsletter` does; nothing it does reaches the zygote or the next call.

What differs from `python -m newsletter`: the interpreter's start-up flags (the zygote starts
with the tests' PYTHONUTF8=1) and modules imported before the environment was set, which is why
the code reads its settings when a command runs, never at import. Tests of start-up itself (the
entry point, a missing project, signals) start real subprocesses instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from typing import Any

PRELOAD = (
    "newsletter.cli",
    "newsletter.sending.run",
    "newsletter.sending.worker",
    "newsletter.delivery.smtp",
    "newsletter.web.app",
    "newsletter.web.server",
    "newsletter.reports.report",
    "newsletter.store.admin",
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "alembic.command",
    "mjml",
    "premailer",
    "aiosmtplib",
    "psycopg",
)
STATUS = struct.Struct("!iq")  # (kind, value): kind 0 = runner's pid, 1 = exit code, 2 = signal


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            raise EOFError("the test closed the connection mid-request")
        data += more
    return json.loads(data), list(fds)


def _run(request: dict[str, Any], fds: list[int]) -> None:
    """In the runner: become the CLI process the test asked for, and exit with its code."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["newsletter", *request["args"]]
    code = 1
    try:
        from newsletter.cli import main

        code = main(request["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


def _keep(conn: socket.socket) -> None:
    """In the keeper: start the runner, tell the test its pid, wait, tell the test how it ended."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # so that this process can wait for its runner
    request, fds = _receive(conn)
    pid = os.fork()
    if pid == 0:
        conn.close()
        _run(request, fds)
    for fd in fds:
        os.close(fd)
    conn.sendall(STATUS.pack(0, pid))
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        conn.sendall(STATUS.pack(2, os.WTERMSIG(status)))
    else:
        conn.sendall(STATUS.pack(1, os.waitstatus_to_exitcode(status)))
    conn.close()


def serve(path: str) -> None:
    for name in PRELOAD:
        __import__(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped without a wait
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            try:
                _keep(conn)
            finally:
                os._exit(0)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
