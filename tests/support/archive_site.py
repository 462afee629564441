"""A loopback web server over a folder, where a test publishes the archive: it answers what is
there, 404 for what is not, and holds the request of a file named in `hang` without answering."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: Path) -> None:
        super().__init__(("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder)))
        self.folder = folder / "newsletter"  # the archive, under /newsletter/
        self.folder.mkdir(parents=True, exist_ok=True)
        self.hang: set[str] = set()  # file names whose requests get no answer until teardown
        self.release = threading.Event()
        self.seen: list[tuple[str, str]] = []

    @property
    def archive_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/newsletter/"


class _Handler(SimpleHTTPRequestHandler):
    server: Site

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        self.server.seen.append((self.command, self.path))
        if self.path.rsplit("/", 1)[-1] in self.server.hang:
            self.server.release.wait(15)
            self.close_connection = True
            return None
        return super().send_head()


@contextmanager
def archive_site(folder: Path) -> Iterator[Site]:
    site = Site(folder)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        site.shutdown()
        site.server_close()
