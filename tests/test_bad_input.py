"""Bad input gives one clear line naming the file and line or field, exit code 2, no traceback,
and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

ISSUE = "issues/spring-2018.yaml"
ARTICLE = "articles/sent-away-children-inquiry.md"


def edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"fixture text {old!r} not in {path}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def write(path: str, content: str | bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        file = root / path
        if isinstance(content, bytes):
            file.write_bytes(content)
        else:
            file.write_text(content, encoding="utf-8")

    return apply


# (id, how to break the project, command, text the error line must contain)
CASES = [
    ("malformed-yaml", edit(ISSUE, "subject:", "subject: [unclosed\nx:"), ["build", ISSUE], "spring-2018.yaml:"),
    (
        "missing-article",
        edit(ISSUE, "county-lines-violence-survey", "no-such-article"),
        ["build", ISSUE],
        "article 'no-such-article' not found",
    ),
    ("wrong-issue-date", edit(ISSUE, "date: 2018-04-06", "date: 6th April"), ["build", ISSUE], "field 'date'"),
    (
        "front-matter-without-title",
        edit(ARTICLE, "title:", "headline:"),
        ["build", ISSUE],
        "sent-away-children-inquiry.md:",
    ),
    ("article-wrong-date", edit(ARTICLE, "date: 2018-03-26", "date: March 2018"), ["build", ISSUE], "field 'date'"),
    ("article-no-front-matter", write(ARTICLE, "Just text\n"), ["build", ISSUE], "front matter"),
    ("article-unclosed-front-matter", write(ARTICLE, "---\ntitle: x\n"), ["build", ISSUE], "not closed"),
    ("article-bad-url", edit(ARTICLE, "url: https://", "url: javascript:alert(1)//"), ["build", ISSUE], "field 'url'"),
    (
        "article-image-without-alt",
        edit(ARTICLE, "image_alt:", "image_note:"),
        ["build", ISSUE],
        "sent-away-children-inquiry.md:",
    ),
    ("article-not-utf8", write(ARTICLE, b"---\ntitle: caf\xe9\n---\nbody\n"), ["build", ISSUE], "not UTF-8"),
    ("issue-not-a-mapping", write(ISSUE, "- just\n- a list\n"), ["build", ISSUE], "expected a mapping"),
    (
        "issue-unknown-field",
        edit(ISSUE, "subject:", "subjet: typo\nsubject:"),
        ["build", ISSUE],
        "unknown field 'subjet'",
    ),
    (
        "issue-subject-newline",
        edit(ISSUE, "subject:", 'subject: "Hi\\r\\nBcc: victim@example.com"\nx_subject:'),
        ["build", ISSUE],
        "spring-2018.yaml",
    ),
    (
        "issue-no-articles",
        edit(ISSUE, "articles:", "articles: []\nold_articles:"),
        ["build", ISSUE],
        "spring-2018.yaml",
    ),
    (
        "issue-two-featured",
        edit(ISSUE, "  - county-lines-violence-survey", "  - slug: county-lines-violence-survey\n    featured: true"),
        ["build", ISSUE],
        "featured",
    ),
    ("issue-missing-file", lambda root: None, ["build", "issues/nope.yaml"], "issues/nope.yaml: issue file not found"),
    (
        "template-syntax-error",
        edit("templates/newsletter.txt.j2", "{{", "{{ {% "),
        ["build", ISSUE],
        "newsletter.txt.j2:",
    ),
    (
        "template-undefined",
        edit("templates/newsletter.txt.j2", "{{", "{{ no_such_variable }}{{"),
        ["build", ISSUE],
        "no_such_variable",
    ),
    (
        "unknown-mjml-tag",
        edit("templates/newsletter.mjml.j2", "</mj-body>", "<mj-foo>x</mj-foo></mj-body>"),
        ["build", ISSUE],
        "mj-foo",
    ),
    ("csv-missing", lambda root: None, ["send", ISSUE, "--subscribers", "nope.csv", "--dry-run"], "nope.csv"),
    (
        "csv-no-email-column",
        write("bad.csv", "name,ward\nAnn,Manor\n"),
        ["send", ISSUE, "--subscribers", "bad.csv"],
        "bad.csv:1: no 'email' column",
    ),
    (
        "csv-not-utf8",
        write("bad.csv", b"email,first_name\nann@example.org,Zo\xeb\n"),
        ["subscribers", "check", "bad.csv"],
        "bad.csv:2: not UTF-8",
    ),
    ("csv-empty", write("bad.csv", ""), ["subscribers", "check", "bad.csv"], "bad.csv: the subscriber list is empty"),
    (
        "setting-from-newline",
        lambda root: (root / ".env").write_text('NEWSLETTER_FROM="Ann <a@example.org>\\nBcc: x@example.com"\n'),
        ["build", ISSUE],
        "NEWSLETTER_FROM",
    ),
    (
        "setting-bad-url",
        lambda root: (root / ".env").write_text("UNSUBSCRIBE_URL=ftp://example.org/u\n"),
        ["build", ISSUE],
        "UNSUBSCRIBE_URL",
    ),
    (
        "setting-bad-list-id",
        lambda root: (root / ".env").write_text("NEWSLETTER_LIST_ID=no angle brackets\n"),
        ["build", ISSUE],
        "NEWSLETTER_LIST_ID",
    ),
]


@pytest.mark.parametrize(("breaks", "args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(
    project: Path, run_cli: Run, breaks: Callable[[Path], None], args: list[str], expected: str
) -> None:
    breaks(project)
    result = run_cli(*args, "--out", "out") if args[0] == "build" else run_cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert not (project / "out").exists(), "nothing may be written on bad input"
    assert not (project / "outbox").exists()


def test_check_lists_every_missing_article_and_exits_1(project: Path, run_cli: Run) -> None:
    edit(ISSUE, "county-lines-violence-survey", "gone-one")(project)
    edit(ISSUE, "chief-constables-letters", "gone-two")(project)
    result = run_cli("check", ISSUE)
    assert result.returncode == 1
    assert "gone-one" in result.stdout and "gone-two" in result.stdout
