"""Running the app under waitress: the listening socket, the trusted proxy, the request log on
standard error, and a stop on SIGTERM that finishes the requests in flight.

systemd (deploy/newsletter-serve.service) and container runtimes stop a service with SIGTERM.
waitress's own answer to it drops whatever is in flight: a one-click unsubscribe half read, or
answered but not yet sent, is lost, and the mailbox provider may not retry. So on SIGTERM the
server stops accepting connections, keeps its loop turning until every open connection is
idle (no request being read, run or sent), at most `GRACE` seconds, and only then closes.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.wasyncore import close_all, loop

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger("newsletter.web")
GRACE = 20.0  # seconds a stop waits for requests in flight (systemd's TimeoutStopSec is longer)
# Requests that wait for a commit hold a thread, and a burst of one-click unsubscribes commits
# as one group only as large as the threads waiting (web/group_commit.py): measured, 12 carried a
# burst at about 1.4 times the rate of 4 (docs/benchmarks.md). Each thread keeps a pooled database
# connection, and SQLAlchemy's pool holds 15 (5 + 10 overflow): more threads would wait for one.
THREADS = 12


def listen(app: WSGIApplication, host: str, port: int, trusted_proxy: str) -> Any:
    """A waitress server bound to host:port (not yet serving). With `trusted_proxy`, the
    X-Forwarded-For that proxy sends names the client; from any other peer it is removed."""
    proxy: dict[str, object] = {}
    if trusted_proxy:
        proxy = {
            "trusted_proxy": trusted_proxy,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for"},
            "clear_untrusted_proxy_headers": True,
        }
    return create_server(
        app,
        host=host,
        port=port,
        threads=THREADS,
        max_request_body_size=64 * 1024,
        ident="newsletter",
        channel_timeout=30,
        **proxy,
    )


def log_to_stderr(*, requests: bool) -> None:
    """The web's log lines (one per request unless `requests` is off, and every warning) on
    standard error, where systemd's journal and container runtimes collect them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    web = logging.getLogger("newsletter.web")
    web.addHandler(handler)
    web.setLevel(logging.INFO)
    web.propagate = False
    logging.getLogger("newsletter.web.requests").setLevel(logging.INFO if requests else logging.WARNING)


def busy(server: Any) -> int:
    """Connections with a request being read, run or sent (an idle keep-alive one is not)."""
    return sum(
        1
        for channel in list(server._map.values())
        if isinstance(channel, HTTPChannel)
        and (channel.requests or channel.request is not None or channel.total_outbufs_len)
    )


def run(server: Any, grace: float = GRACE, ready: Callable[[], None] | None = None) -> None:
    """Serve until SIGTERM (finishing the requests in flight) or Ctrl-C (at once).

    `ready` runs once the SIGTERM handler is in place: a supervisor that signals as soon as it
    reads the address printed there must find the handler, not Python's default (death, exit -15).
    """
    stopping = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        server.pull_trigger()  # wakes the poll below

    previous = signal.signal(signal.SIGTERM, on_term)
    adj = server.adj
    try:
        if ready is not None:
            ready()
        while not stopping.is_set():
            loop(timeout=adj.asyncore_loop_timeout, map=server._map, use_poll=adj.asyncore_use_poll, count=1)
        drain(server, grace)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.task_dispatcher.shutdown()
        close_all(server._map)


def drain(server: Any, grace: float) -> None:
    """Stop listening, then turn the loop until no connection is busy or `grace` has passed."""
    server.accepting = False
    server.del_channel()
    server.socket.close()
    # Logged once the socket is closed: what the line says is then true (a test relies on it).
    log.info("stopping (SIGTERM): %d request(s) in flight, new connections refused", busy(server))
    deadline = time.monotonic() + grace
    while busy(server) and time.monotonic() < deadline:
        loop(timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
    left = busy(server)
    if left:
        log.warning("stopped with %d request(s) unfinished after %.0f s", left, grace)
