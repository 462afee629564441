"""SpamAssassin (Debian's, local rules only: no DNS or network tests) scores every example issue 0.0."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.audience.people import Subscriber
from newsletter.mail.compose import compose
from newsletter.mail.message import MessageFactory
from newsletter.settings import load_settings
from tests.conftest import REPO, require

ISSUES = sorted((REPO / "issues").glob("*.yaml"))
READER = Subscriber(email="reader@example.org", first_name="Sam", last_name="Reader")


def spam_report(message: bytes) -> tuple[float, str]:
    """(score, report) from `spamassassin -L -t` (-L: local tests only)."""
    require(shutil.which("spamassassin") is not None, "spamassassin (Debian package)")
    result = subprocess.run(["spamassassin", "-L", "-t"], input=message, capture_output=True, timeout=60, check=True)
    output = result.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", output, re.M)
    assert status, output[:2000]
    return float(status.group(1)), output.split("Content analysis details:")[-1]


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_every_example_issue_scores_zero(path: Path) -> None:
    data = compose(path, load_settings({})).factory.build(READER).data
    score, report = spam_report(data)
    assert score <= 0.0, report


def test_the_check_can_fail() -> None:
    """A preheader hidden the old way (text the colour of the page) costs points: the test sees them."""
    composed = compose(REPO / "issues" / "spring-2018.yaml", load_settings({}))
    html = composed.rendered.html.replace(
        '<div class="nl-preheader" style="', '<div style="color:#dde4e0;font-size:1px;line-height:1px;', 1
    )
    assert html != composed.rendered.html
    factory = MessageFactory(dataclasses.replace(composed.rendered, html=html), composed.settings)
    score, report = spam_report(factory.build(READER).data)
    assert score > 0.0, report
