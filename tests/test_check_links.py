"""`newsletter check --links` against a real HTTP server on 127.0.0.1 (200, 404, 500, 301, never)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.checks.links import Target, check_links, is_shortener, targets
from tests.conftest import Run
from tests.support.http_targets import Targets, http_targets


@pytest.fixture
def server() -> Iterator[Targets]:
    with http_targets() as running:
        yield running


def by_url(findings: list, base: str) -> dict[str, list[str]]:  # type: ignore[type-arg]
    found: dict[str, list[str]] = {}
    for f in findings:
        match = re.search(re.escape(base) + r"(/[^\s:]*)", f.message)
        assert match, f.message
        found.setdefault(match.group(1), []).append(f.code)
    return found


def test_each_answer_is_reported(server: Targets) -> None:
    base = server.base
    wanted = [Target(base + p) for p in ("/ok", "/missing", "/broken", "/moved", "/moved-here", "/no-head", "/never")]
    wanted.append(Target(base + "/big.jpg", image=True))
    # The timeout is only a cap: the answering paths reply at once even on a loaded machine, and
    # "/never" holds its request until teardown, so only it can run into the timeout.
    findings = check_links(wanted, timeout=3)
    found = by_url(findings, base)
    assert found == {
        "/missing": ["link-broken"],
        "/broken": ["link-broken"],
        "/moved": ["link-redirect"],
        "/never": ["link-timeout"],
        "/big.jpg": ["image-weight"],
    }, findings
    messages = "\n".join(f.message for f in findings)
    assert "answers 404" in messages and "answers 500" in messages
    assert f"redirects to another host: http://localhost:{server.server_address[1]}/ok" in messages
    assert "no answer within 3 s" in messages and "300 KB" in messages
    # A server that never answers costs one timeout: one request, not a GET after the HEAD timed out.
    assert [seen for seen in server.seen if seen[1] == "/never"] == [("HEAD", "/never")]
    # HEAD first; GET only where HEAD was refused.
    assert ("HEAD", "/no-head") in server.seen and ("GET", "/no-head") in server.seen
    assert ("GET", "/ok") not in server.seen


def test_concurrency_is_limited(server: Targets) -> None:
    wanted = [Target(f"{server.base}/slow/{i}") for i in range(8)]
    assert check_links(wanted, concurrency=2, timeout=5) == []
    assert server.most_in_flight == 2


def test_a_closed_port_is_a_broken_link() -> None:
    with http_targets() as gone:
        url = gone.base + "/ok"
    findings = check_links([Target(url)], timeout=1)
    assert [f.code for f in findings] == ["link-broken"] and "cannot connect" in findings[0].message


def test_shorteners_and_targets() -> None:
    assert is_shortener("https://bit.ly/3abc") and is_shortener("https://www.tinyurl.com/x")
    assert not is_shortener("https://www.example.org/bit.ly")
    html = (
        '<html><body><a href="https://a.example.org/x">A</a><a href="mailto:x@example.org">m</a>'
        '<img src="https://a.example.org/i.png" alt="i"><a href="https://a.example.org/x">again</a></body></html>'
    )
    found = targets(html, "See https://b.example.org/y. And https://a.example.org/x")
    assert found == [
        Target("https://a.example.org/i.png", image=True),
        Target("https://a.example.org/x"),
        Target("https://b.example.org/y"),
    ]


def test_check_links_through_the_cli(project: Path, run_cli: Run) -> None:
    with http_targets() as server:
        base = server.base
        for path in list((project / "articles").glob("*.md")) + list((project / "issues").glob("*.yaml")):
            path.write_text(path.read_text(encoding="utf-8").replace("https://www.example.org", base), encoding="utf-8")
        article = project / "articles" / "county-lines-violence-survey.md"
        text = article.read_text(encoding="utf-8")
        text = re.sub(r"^url: .*$", f"url: {base}/missing", text, count=1, flags=re.M)
        text = re.sub(r"^image: .*$", f"image: {base}/big.jpg", text, count=1, flags=re.M)
        article.write_text(text, encoding="utf-8")
        other = project / "articles" / "chief-constables-letters.md"
        other.write_text(re.sub(r"^url: .*$", f"url: {base}/moved", other.read_text(encoding="utf-8"), count=1,
                                flags=re.M), encoding="utf-8")  # fmt: skip
        childrens = project / "articles" / "childrens-homes-market.md"
        childrens.write_text(re.sub(r"^url: .*$", f"url: {base}/never", childrens.read_text(encoding="utf-8"),
                                    count=1, flags=re.M), encoding="utf-8")  # fmt: skip
        env = {"NEWSLETTER_WEBSITE": base + "/", "NEWSLETTER_ARCHIVE_URL": base + "/newsletter/",
               "UNSUBSCRIBE_URL": base + "/unsubscribe"}  # fmt: skip
        result = run_cli("check", "spring-2018", "--links", "--timeout", "1", "--concurrency", "4", env=env)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert f"link {base}/missing answers 404" in out
    assert f"image {base}/big.jpg is 300 KB" in out
    assert f"link {base}/moved redirects to another host" in out
    assert f"link {base}/never: no answer within 1 s" in out
    assert "is not https" in out
    assert "answers" not in out.replace(f"{base}/missing answers 404", ""), "only the broken link is reported"
