"""Ward editions: articles limited to wards, one render per distinct edition, each reader their
ward's edition, and the journal, check, build, preview and archive all knowing it."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from newsletter.audience.people import Subscriber
from newsletter.content.editions import editions
from newsletter.content.issue import load_issue
from newsletter.errors import InputError
from newsletter.mail.compose import compose
from newsletter.settings import load_settings
from newsletter.store import Location
from tests.conftest import REPO, Run
from tests.support.browser import preview
from tests.support.db import query

WARD_ARTICLE = "https://www.example.org/news/dementia-dols-red-tape"
KEY = "heatons-north+heatons-south"


def write_issue(project: Path, articles: str) -> Path:
    path = project / "issues" / "test-editions.yaml"
    path.write_text(
        'subject: "Editions"\ndate: 2018-04-06\npreheader: "A test of ward editions"\nintro: "Hello."\n'
        f"articles:\n{articles}",
        encoding="utf-8",
    )
    return path


def html_of(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_wards_group_into_distinct_editions(project: Path) -> None:
    path = write_issue(
        project,
        "  - slug: sent-away-children-inquiry\n    featured: true\n"
        "  - slug: county-lines-violence-survey\n    wards: [Heatons North]\n"
        "  - slug: chief-constables-letters\n    wards: [heatons  north, Reddish South]\n"
        "  - real-voices-background\n"
        "  - slug: childrens-homes-market\n    wards: Brinnington and Central\n",
    )
    found = {e.key: (e.wards, [a.slug for a in e.issue.all_articles]) for e in editions(load_issue(path))}
    assert found == {
        "": ((), ["sent-away-children-inquiry", "real-voices-background"]),
        "heatons-north": (("Heatons North",), ["sent-away-children-inquiry", "county-lines-violence-survey",
                                               "chief-constables-letters", "real-voices-background"]),
        "reddish-south": (("Reddish South",), ["sent-away-children-inquiry", "chief-constables-letters",
                                               "real-voices-background"]),
        "brinnington-and-central": (("Brinnington and Central",), ["sent-away-children-inquiry",
                                                                   "real-voices-background", "childrens-homes-market"]),
    }  # fmt: skip


def test_wards_with_the_same_articles_share_an_edition() -> None:
    issue = load_issue(REPO / "issues" / "spring-2016.yaml")
    assert [(e.key, e.label) for e in editions(issue)] == [("", "everyone"), (KEY, "Heatons North, Heatons South")]
    plain = load_issue(REPO / "issues" / "spring-2018.yaml")
    assert [e.key for e in editions(plain)] == [""]


@pytest.mark.parametrize("wards", ["3", "[]", "['']", "{a: b}", "[Heatons North, 4]"])
def test_bad_wards_name_the_file_and_line(project: Path, wards: str, run_cli: Run) -> None:
    entries = f"  - sent-away-children-inquiry\n  - slug: chief-constables-letters\n    wards: {wards}\n"
    path = write_issue(project, entries)
    with pytest.raises(InputError, match=r"test-editions\.yaml:7: 'wards' must be a list of ward names"):
        load_issue(path)
    result = run_cli("check", "test-editions")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "test-editions.yaml:7" in result.stderr


def test_each_reader_gets_their_wards_articles_plus_everyones() -> None:
    composed = compose(REPO / "issues" / "spring-2016.yaml", load_settings({}))
    for ward, expected in (("Heatons North", KEY), (" heatons  SOUTH ", KEY), ("Reddish North", ""), ("", "")):
        message = composed.factory.build(Subscriber(email="r@example.org", first_name="R", ward=ward))
        assert message.edition == expected
        html = html_of(message.data)
        assert (WARD_ARTICLE in html) == bool(expected), ward
        assert "https://www.example.org/news/childrens-homes-market" in html
        name = "spring-2016" + (f".{KEY}" if expected else "")
        assert f"https://www.example.org/newsletter/{name}.html" in html, "view in your browser: its own edition"


def test_rendered_once_per_edition_never_per_recipient(monkeypatch: pytest.MonkeyPatch) -> None:
    import premailer

    from newsletter.content import render

    calls: list[str] = []
    original = render.Renderer.render

    def counting(self, issue, settings, web_name=None):  # type: ignore[no-untyped-def]
        calls.append(web_name or issue.slug)
        return original(self, issue, settings, web_name)

    monkeypatch.setattr(render.Renderer, "render", counting)
    composed = compose(REPO / "issues" / "spring-2016.yaml", load_settings({}))
    assert calls == ["spring-2016", f"spring-2016.{KEY}"]

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered per recipient")

    monkeypatch.setattr(render, "mjml2html", forbidden)
    monkeypatch.setattr(premailer.Premailer, "transform", forbidden)
    monkeypatch.setattr(render.Renderer, "render", forbidden)
    wards = ["Heatons North", "Heatons South", "Manor", ""]
    readers = [Subscriber(email=f"r{i}@example.org", ward=wards[i % 4]) for i in range(40)]
    built = {composed.factory.build(reader).edition for reader in readers}
    assert built == {"", KEY}


def test_the_journal_records_each_recipients_edition(project: Path, on_each_backend: Location, run_cli: Run) -> None:
    result = run_cli("send", "spring-2016", "--subscribers", "subscribers.example.csv", "--yes")
    assert result.returncode == 0, result.stderr
    rows = dict(
        query(on_each_backend, "SELECT email, edition FROM deliveries WHERE issue = 'spring-2016' AND state = 'sent'")
    )
    assert rows["margaret.hughes@example.org"] == KEY and rows["amina.hussain@example.com"] == KEY
    assert sum(edition == KEY for edition in rows.values()) == 4
    assert all(edition == "" for email_, edition in rows.items() if email_ not in {
        "margaret.hughes@example.org", "p.greenhalgh@example.org", "amina.hussain@example.com",
        "helen.taylor@example.org"})  # fmt: skip
    eml = (project / "outbox" / "spring-2016" / "margaret.hughes@example.org.eml").read_bytes()
    assert WARD_ARTICLE in html_of(eml)
    status = run_cli("status", "spring-2016")
    assert f"sent by edition: {len(rows) - 4} for everyone, 4 {KEY}" in status.stdout, status.stdout


def test_check_checks_every_edition(project: Path, run_cli: Run) -> None:
    article = project / "articles" / "dementia-dols-red-tape.md"
    article.write_text(article.read_text(encoding="utf-8") + "\n[Click here](https://www.example.org/dols).\n")
    issue = project / "issues" / "spring-2016.yaml"  # the ward article featured, so its body shows
    text = issue.read_text(encoding="utf-8").replace("    featured: true\n", "")
    issue.write_text(text.replace("    wards:", "    featured: true\n    wards:"), encoding="utf-8")
    result = run_cli("check", "spring-2016")
    assert (
        "edition for Heatons North, Heatons South: link text 'Click here' does not say where it goes" in result.stdout
    ), result.stdout
    assert result.stdout.count("Click here") == 1


def test_build_writes_a_web_copy_per_edition(project: Path, run_cli: Run) -> None:
    result = run_cli("build", "spring-2016", "--out", "site")
    assert result.returncode == 0, result.stderr
    assert WARD_ARTICLE not in (project / "site" / "spring-2016.html").read_text(encoding="utf-8")
    assert WARD_ARTICLE in (project / "site" / f"spring-2016.{KEY}.html").read_text(encoding="utf-8")
    assert (project / "site" / f"spring-2016.{KEY}.txt").is_file()


def test_the_preview_picker_shows_each_edition(project: Path) -> None:
    with preview(project, "spring-2016") as running:
        state = running.state()
        labels = {r["label"]: r["email"] for r in state["readers"]}
        assert "Generic reader (no name), edition for everyone" in labels
        reader = labels["Generic reader, edition for Heatons North, Heatons South"]
        _, _, everyone = running.get(state["message"]["htmlUrl"])
        ward_state = running.state(reader.replace("+", "%2B"))
        assert ward_state["reader"] == reader
        _, _, ward_html = running.get(ward_state["message"]["htmlUrl"])
    assert WARD_ARTICLE.encode() in ward_html and WARD_ARTICLE.encode() not in everyone


@pytest.mark.usefixtures("on_each_backend")  # the archive reads the editions from the database
def test_the_archive_lists_the_editions(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "spring-2016", "--subscribers", "subscribers.example.csv", "--yes").returncode == 0
    result = run_cli("archive", "--out", "site")
    assert result.returncode == 0, result.stdout + result.stderr
    index = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert f'Ward editions: <a href="spring-2016.{KEY}.html">Heatons North, Heatons South</a>' in index
    assert WARD_ARTICLE in (project / "site" / f"spring-2016.{KEY}.html").read_text(encoding="utf-8")
    assert WARD_ARTICLE not in (project / "site" / "spring-2016.html").read_text(encoding="utf-8")
