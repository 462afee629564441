"""A fault of ours is a 500 with the traceback in the log, never a 503 that would pass for a
busy database; over real HTTP (waitress on 127.0.0.1), with a route added to the app object."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from newsletter.web.http import Request, Response
from tests.support.consent_server import request
from tests.support.web import over_http, web_app


class Broken:
    """A handler with a bug: it raises on every request."""

    def get(self, request: Request) -> Response:
        raise RuntimeError("broken on purpose")

    def post(self, request: Request) -> Response:
        raise KeyError("broken on purpose")


def test_a_handler_that_raises_is_a_500_with_its_traceback_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = web_app(tmp_path)
    app.routes["/broken"] = Broken()
    with caplog.at_level(logging.ERROR, logger="newsletter.web"), over_http(app) as base:
        got = request(f"{base}/broken?token=secret-token")
        posted = request(f"{base}/broken", b"a=1")
        fine = request(f"{base}/subscribe")
    assert (got[0], posted[0], fine[0]) == (500, 500, 200)
    _, headers, page = got
    assert "Retry-After" not in headers and headers["Cache-Control"] == "no-store"
    assert "Something went wrong" in page and "broken on purpose" not in page, "no internals in the page"
    records = [r for r in caplog.records if r.name == "newsletter.web"]
    assert len(records) == 2 and all(r.exc_info for r in records)
    assert "Traceback" in caplog.text and "RuntimeError: broken on purpose" in caplog.text
    assert "GET /broken" in caplog.text and "secret-token" not in caplog.text, "tokens stay out of the log"
