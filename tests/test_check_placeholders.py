"""`check` fails placeholders (issue 18): the intro `new-issue` writes, TK, TODO, lorem ipsum, an
intro with no words, an article still holding its template text. Each is an error naming the
file and line, in `check` and in the preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.cli import main
from newsletter.content.placeholders import ARTICLE_BODY, ARTICLE_SUMMARY, placeholders
from tests.conftest import REPO, Run
from tests.support.browser import preview

ISSUE = Path("issues/spring-2018.yaml")
ARTICLE = Path("articles/sent-away-children-inquiry.md")
INTRO_LINE = "  This spring I have launched a parliamentary inquiry"
SUMMARY_LINE = next(
    line for line in (REPO / ARTICLE).read_text(encoding="utf-8").splitlines() if line.startswith("summary: ")
)


def check(capsys: pytest.CaptureFixture[str], issue: str = "spring-2018") -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["check", issue])
    return code, [line for line in capsys.readouterr().out.splitlines() if line.startswith("error")]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_intro_new_issue_writes_fails_check(project: Path, run_cli: Run) -> None:
    made = run_cli("new-issue", "summer-2019", "--articles", "standing-down,final-stockport-express-interview")
    assert made.returncode == 0, made.stderr
    result = run_cli("check", "summer-2019")
    assert result.returncode == 1, result.stdout
    errors = [line for line in result.stdout.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "issues/summer-2019.yaml:5: the intro still has the starter text" in errors[0]


# (what is changed, in which file, old text, new text, where the error points)
CASES = [
    ("subject TK", ISSUE, 'subject: "Stockport update', 'subject: "TK Stockport update', f"{ISSUE}:1: the subject"),
    ("preheader TODO", ISSUE, 'preheader: "Why', 'preheader: "TODO Why', f"{ISSUE}:3: the preheader"),
    ("intro lorem ipsum", ISSUE, INTRO_LINE, "  Lorem ipsum dolor sit amet.\n" + INTRO_LINE, f"{ISSUE}:5: the intro"),
    ("intro TKTK", ISSUE, "With best wishes,", "TKTK: a line about the survey\n\n  With best wishes,", f"{ISSUE}:9"),
    ("body TODO", ARTICLE, "\n---\n", "\n---\nTODO: the minister's quote.\n\n", f"{ARTICLE}:10: the body of article"),
    ("body FIXME", ARTICLE, "\n---\n", "\n---\nFIXME the date\n\n", f"{ARTICLE}:10: the body of article"),
    ("body template", ARTICLE, "\n---\n", f"\n---\n{ARTICLE_BODY}\n\n", f"{ARTICLE}:10: the body of article"),
    ("summary template", ARTICLE, SUMMARY_LINE, f'summary: "{ARTICLE_SUMMARY}"', f"{ARTICLE}:4: the summary"),
    ("title TK", ARTICLE, 'title: "', 'title: "TK: ', f"{ARTICLE}:2: the title of article"),
    ("alt TODO", ARTICLE, 'image_alt: "', 'image_alt: "TODO ', f"{ARTICLE}:8: the image_alt"),
]


@pytest.mark.parametrize(("name", "path", "old", "new", "expect"), CASES, ids=[case[0] for case in CASES])
def test_a_placeholder_is_an_error_naming_its_file_and_line(
    name: str, path: Path, old: str, new: str, expect: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replace(project / path, old, new)
    code, errors = check(capsys)
    assert code == 1, errors
    assert len(errors) == 1 and expect in errors[0], errors


def test_an_intro_without_words_is_an_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (project / ISSUE).read_text(encoding="utf-8")
    start, end = text.index("intro: |"), text.index("template: newsletter")
    (project / ISSUE).write_text(text[:start] + 'intro: "..."\n' + text[end:], encoding="utf-8")
    code, errors = check(capsys)
    assert code == 1 and len(errors) == 1 and f"{ISSUE}:4: the intro is empty" in errors[0], errors


def test_a_summary_set_in_the_issue_is_found_in_the_issue(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace(project / ISSUE, 'summary: "From 2016:', 'summary: "TODO From 2016:')
    code, errors = check(capsys)
    assert code == 1 and len(errors) == 1, errors
    assert f"{ISSUE}:17: the summary of article 'childrens-homes-market'" in errors[0]


@pytest.mark.parametrize(
    "words",
    ["Tkachenko spoke", "a to do list", "todo", "the TKO of the night", "Lorem", "ipsum", "It ends"],
)
def test_words_that_only_look_like_placeholders_pass(
    words: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replace(project / ISSUE, INTRO_LINE, f"  {words}.\n" + INTRO_LINE)
    assert check(capsys) == (0, [])


@pytest.mark.parametrize("issue", sorted(p.stem for p in (REPO / "issues").glob("*.yaml")))
def test_the_example_issues_have_no_placeholder(issue: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, issue) == (0, [])


def test_the_article_template_is_the_one_the_docs_show() -> None:
    page = (REPO / "docs" / "reference" / "files.md").read_text(encoding="utf-8")
    assert f'summary: "{ARTICLE_SUMMARY}"' in page and f"\n{ARTICLE_BODY}\n" in page


def test_the_preview_shows_the_placeholder(project: Path, run_cli: Run) -> None:
    assert run_cli("new-issue", "summer-2019", "--articles", "standing-down").returncode == 0
    with preview(project, "summer-2019") as running:
        findings = running.state()["findings"]
    assert [f["level"] for f in findings if f["code"] == "placeholder"] == ["error"], findings
    assert "the starter text" in next(f["message"] for f in findings if f["code"] == "placeholder")


@given(st.text(max_size=200), st.text(max_size=200), st.sampled_from(["TODO", "TK", "FIXME", "lorem ipsum"]))
def test_a_marker_between_words_is_always_found(before: str, after: str, marker: str) -> None:
    found = placeholders(f"{before} {marker} {after}")
    assert any(marker.split()[0].lower() in p.what.lower() or marker in p.found for p in found), found
