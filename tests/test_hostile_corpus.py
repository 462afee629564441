"""The hand-written hostile corpus (tests/hostile/corpus.py), each row held to its contract.

CLI rows run the real command in-process (`newsletter.cli.main`, as pypa/build's tests do) in
a copy of the example project; the rest call the boundary's gate directly.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
from collections import Counter
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

from newsletter.audience.bounces import import_mailbox, soft_limit
from newsletter.cli import main
from newsletter.cli.console import TextConsole, printable
from newsletter.delivery.relays import smtp_settings
from newsletter.errors import ConfigError
from newsletter.gates.cells import FORMULA_START, csv_bytes, restore
from newsletter.gates.headers import CONTROL, HeaderError, address_header, fold
from newsletter.settings import load_settings
from tests.conftest import REAL_SETTINGS
from tests.hostile import corpus
from tests.hostile.corpus import Case
from tests.support.bounce_mail import fixture_text
from tests.support.web import web_app


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def snapshot(root: Path) -> dict[str, int]:
    """Every file's size, but the cache of pictures made for email (content/images.py): a
    picture made before a template fails is complete and correct, and is reused next time."""
    cache = root / ".newsletter-images"
    return {
        str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file() and cache not in p.parents
    }


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code: int, out: str, err: str, expect: str) -> None:
    """The contract for bad input through the CLI: exit 2, one line on stderr, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, out + err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in out + err
    assert expect in lines[0], lines[0]


def test_the_corpus_is_large_and_every_row_has_a_contract() -> None:
    assert len(corpus.ALL) >= 150
    assert {case.contract for case in corpus.ALL} <= set(corpus.CONTRACTS)
    keys = Counter((case.boundary, case.id) for case in corpus.ALL)
    assert max(keys.values()) == 1


@pytest.mark.parametrize("case", corpus.HEADERS, ids=ids(corpus.HEADERS))
def test_header_rows(case: Case) -> None:
    assert isinstance(case.given, str)
    try:
        folded = fold("Subject", case.given)
    except HeaderError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("header Subject: ")
        return
    message = email.message_from_bytes(folded + b"\r\n", policy=email.policy.default)
    assert list(message.keys()) == ["Subject"]
    assert not CONTROL.search(str(message["Subject"]))


@pytest.mark.parametrize("case", corpus.DISPLAY_NAMES, ids=ids(corpus.DISPLAY_NAMES))
def test_display_name_rows(case: Case) -> None:
    assert isinstance(case.given, str)
    folded = address_header("To", case.given, "reader@example.org")
    compat = email.message_from_bytes(folded + b"\r\n", policy=email.policy.compat32)
    assert list(compat.keys()) == ["To"]
    assert [a for _, a in getaddresses([compat["To"]])] == ["reader@example.org"]
    modern = email.message_from_bytes(folded + b"\r\n", policy=email.policy.default)
    assert [a.addr_spec for a in modern["To"].addresses] == ["reader@example.org"]


@pytest.mark.parametrize("case", corpus.SETTINGS, ids=ids(corpus.SETTINGS))
def test_setting_rows(case: Case) -> None:
    name, value = case.given  # type: ignore[misc]
    with pytest.raises(ConfigError) as info:
        if name.startswith("SMTP_"):
            smtp_settings({"SMTP_HOST": "127.0.0.1", "SMTP_SECURITY": "none", name: value})
        elif name == "NEWSLETTER_SOFT_BOUNCE_LIMIT":
            soft_limit({name: value})
        else:
            load_settings({name: value})
    assert str(info.value).startswith(f"{name}: ") and "\n" not in str(info.value)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("case", corpus.ISSUE_YAML, ids=ids(corpus.ISSUE_YAML))
def test_issue_yaml_rows(case: Case, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert isinstance(case.given, str)
    (project / "issues" / "x.yaml").write_text(case.given, encoding="utf-8")
    before = snapshot(project)
    code, out, err = run(["build", "issues/x.yaml"], capsys)
    assert_one_line(code, out, err, case.expect)
    assert len(err) < 400
    assert snapshot(project) == before


ARTICLE_ISSUE = "subject: Hostile\ndate: 2018-04-06\nintro: Hello\narticles:\n  - x-article\n"


@pytest.mark.parametrize("case", corpus.ARTICLES, ids=ids(corpus.ARTICLES))
def test_article_rows(case: Case, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "issues" / "x.yaml").write_text(ARTICLE_ISSUE, encoding="utf-8")
    article = project / "articles" / "x-article.md"
    if isinstance(case.given, bytes):
        article.write_bytes(case.given)
    else:
        article.write_text(str(case.given), encoding="utf-8")
    before = snapshot(project)
    code, out, err = run(["build", "issues/x.yaml"], capsys)
    assert_one_line(code, out, err, case.expect)
    assert snapshot(project) == before


@pytest.mark.parametrize("case", corpus.TEMPLATES, ids=ids(corpus.TEMPLATES))
def test_template_rows(case: Case, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = project / "templates" / "newsletter.txt.j2"
    template.write_text(f"{case.given}\n" + template.read_text(encoding="utf-8"), encoding="utf-8")
    before = snapshot(project)
    code, out, err = run(["build", "spring-2018"], capsys)
    assert_one_line(code, out, err, case.expect)
    assert snapshot(project) == before


def write_csv(path: Path, given: object) -> None:
    if isinstance(given, bytes):
        path.write_bytes(given)
    else:
        path.write_text(str(given), encoding="utf-8", newline="")


ONE_LINE_CSV = [c for c in corpus.SUBSCRIBER_CSV if c.contract == corpus.ONE_LINE]
SKIPPED_CSV = [c for c in corpus.SUBSCRIBER_CSV if c.contract == corpus.ROW_SKIPPED]


@pytest.mark.parametrize("command", ["check", "import"])
@pytest.mark.parametrize("case", ONE_LINE_CSV, ids=ids(ONE_LINE_CSV))
def test_subscriber_csv_file_rows(case: Case, command: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(project / "list.csv", case.given)
    before = snapshot(project)
    code, out, err = run(["subscribers", command, "list.csv"], capsys)
    assert_one_line(code, out, err, case.expect)
    assert len(err) < 400
    assert snapshot(project) == before


@pytest.mark.parametrize("case", SKIPPED_CSV, ids=ids(SKIPPED_CSV))
def test_subscriber_csv_row_rows(case: Case, project: Path) -> None:
    from newsletter.audience.csvfile import load_audience

    path = project / "list.csv"
    write_csv(path, str(case.given) + "good@example.org,Good,2018-01-01\n")
    audience = load_audience(path)
    assert [s.email for s in audience.subscribers] == ["good@example.org"]
    assert [s.reason for s in audience.skipped] == [case.expect]
    assert all(s.line == 2 for s in audience.skipped)


@pytest.mark.parametrize("case", corpus.SUPPRESSION_CSV, ids=ids(corpus.SUPPRESSION_CSV))
def test_suppression_csv_rows(case: Case, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(project / "s.csv", case.given)
    before = snapshot(project)
    code, out, err = run(["suppressions", "import", "s.csv"], capsys)
    assert_one_line(code, out, err, case.expect)
    assert len(err) < 400
    assert snapshot(project) == before


def mbox_bytes(texts: list[str]) -> bytes:
    parts = [
        b"From MAILER-DAEMON Mon Jan  1 00:00:00 2018\n" + t.encode("utf-8", "surrogateescape") + b"\n" for t in texts
    ]
    return b"".join(parts)


@pytest.mark.parametrize("case", corpus.BOUNCES, ids=ids(corpus.BOUNCES))
def test_bounce_rows(case: Case, tmp_path: Path, database: Path | str) -> None:
    box = tmp_path / "bounces.mbox"
    good = fixture_text("postfix-hard.eml")
    box.write_bytes(mbox_bytes([str(case.given), good]))
    settings = load_settings({**REAL_SETTINGS, "NEWSLETTER_JOURNAL": str(database)})
    report = import_mailbox(box, settings)
    assert report.messages == 2
    assert report.counts["hard-bounce suppressed"] >= 1, report.counts
    assert any("d.okafor@example.com" in line for line in report.lines)
    assert all("\n" not in line and "\r" not in line for line in report.lines)


def call(app: Any, given: tuple[str, str, str, bytes, str]) -> tuple[int, bytes]:
    method, path, query, body, content_type = given
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = status

    length = str(10**9) if body == b"x" and method == "POST" else str(len(body))
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": length,
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
    }
    out = b"".join(app(environ, start_response))
    return int(captured["status"][:3]), out


@pytest.mark.parametrize("case", corpus.WEB, ids=ids(corpus.WEB))
def test_web_rows(case: Case, tmp_path: Path) -> None:
    """SQLite only: these requests are refused before the database (the boundary's property
    tests run on both backends in test_web_boundary.py)."""
    status, body = call(web_app(tmp_path), case.given)  # type: ignore[arg-type]
    assert 200 <= status < 500, status
    assert b"<script>alert(1)" not in body


@pytest.mark.parametrize("case", corpus.CSV_EXPORT, ids=ids(corpus.CSV_EXPORT))
def test_csv_export_rows(case: Case) -> None:
    import csv

    data = csv_bytes(["value"], [[case.given]])
    [_header, row] = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert not row[0].startswith(FORMULA_START)
    assert restore(row[0]) == case.given


@pytest.mark.parametrize("case", corpus.TERMINAL, ids=ids(corpus.TERMINAL))
def test_terminal_rows(case: Case) -> None:
    console = TextConsole(file=io.StringIO(), width=120, color_system=None, highlight=False, soft_wrap=True)
    console.print(f"failed x@example.org: {case.given}")
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert printable(str(case.given)) in output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", output)


@pytest.mark.parametrize("case", corpus.TEST_ADDRESSES, ids=ids(corpus.TEST_ADDRESSES))
def test_to_rows(case: Case, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(project)
    code, out, err = run(["send", "spring-2018", "--to", str(case.given)], capsys)
    assert_one_line(code, out, err, "--to")
    assert snapshot(project) == before


CONFIRMATION_HEADERS = {
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
}


def form_body(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


@pytest.mark.parametrize("case", corpus.SIGNUP, ids=ids(corpus.SIGNUP))
def test_signup_rows(case: Case, tmp_path: Path, database: Path | str) -> None:
    from tests.support.web import call as web_call

    app = web_app(tmp_path, database)
    fields = {"email": "reader@example.org", "first_name": "Ann", "consent": "yes", **case.given}  # type: ignore[dict-item]
    answer = web_call(app, "POST", "/subscribe", body=form_body(fields))
    assert 200 <= answer.code < 500, answer.status
    assert "<script>alert(1)" not in answer.body and "<img src=x" not in answer.body
    written = sorted((tmp_path / "outbox").rglob("*.eml"))
    if answer.code == 200 and "website" not in fields:
        assert written, "an accepted signup sends its confirmation email"
    for path in written:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert set(message.keys()) <= CONFIRMATION_HEADERS, message.keys()
        assert [a.addr_spec for a in message["To"].addresses] == ["reader@example.org"]
        assert len(message["From"].addresses) == 1 and message.get_all("Bcc") is None


@pytest.mark.parametrize("case", corpus.PREFERENCES, ids=ids(corpus.PREFERENCES))
def test_preference_rows(case: Case, tmp_path: Path, database: Path | str) -> None:
    from newsletter.store import subscribers as store
    from newsletter.store.consent import Evidence
    from tests.support.web import call as web_call

    app = web_app(tmp_path, database)
    method, query, fields = case.given  # type: ignore[misc]
    if query == "REAL":
        db = app._db()
        store.add_pending(db, "reader@example.org", "Ann", "", "", (), Evidence("import"))
        store.confirm(db, "reader@example.org", Evidence("import"))
        query = app.links.preferences_link("reader@example.org").split("?", 1)[1]
    answer = web_call(app, method, "/preferences", query, form_body(fields))
    assert 200 <= answer.code < 500, answer.status
    assert "<script>alert(1)" not in answer.body and "<img src=x" not in answer.body
    record = store.get(app._db(), "reader@example.org")
    if record is not None:
        assert "\n" not in record.first_name and "\r" not in record.first_name and len(record.first_name) <= 100


GOOD_ITEM = {
    "title": "Inquiry into sent away children",
    "link": "https://www.example.org/news/inquiry",
    "date": "Mon, 02 Apr 2018 10:00:00 +0000",
    "description": "The inquiry opens.",
    "category": "News",
}
ENTITIES = "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefg", "bcdefgh", strict=True))
RAW_FEEDS = {
    "BOMB": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">{ENTITIES}]>'
    '<rss version="2.0"><channel><title>Office</title><link>https://www.example.org/</link>'
    "<item><title>&h;</title><link>https://www.example.org/news/a</link>"
    "<pubDate>Mon, 02 Apr 2018 10:00:00 +0000</pubDate><description>&h;</description></item></channel></rss>",
    "XXE": '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<rss version="2.0"><channel><title>Office</title><link>https://www.example.org/</link>'
    "<item><title>News &xxe;</title><link>https://www.example.org/news/b</link>"
    "<pubDate>Mon, 02 Apr 2018 10:00:00 +0000</pubDate><description>&xxe; text</description></item>"
    "</channel></rss>",
    "NOT-XML": "\x00\x01 not a feed [/] <<<",
    "DEEP": '<?xml version="1.0"?><rss version="2.0"><channel><title>Office</title><item><title>x</title>'
    + "<div>" * 5000
    + "</div>" * 5000
    + "</item></channel></rss>",
}


def feed_xml(given: object) -> str:
    if isinstance(given, str):
        return RAW_FEEDS[given]
    item = corpus.FEED_ITEM.format(**{**GOOD_ITEM, **given})  # type: ignore[dict-item]
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Office</title>'
        f"<link>https://www.example.org/</link><description>News</description>{item}</channel></rss>"
    )


@pytest.mark.parametrize("case", corpus.FEED, ids=ids(corpus.FEED))
def test_feed_rows(case: Case, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from newsletter.content.articles import load_article

    (project / "feed.xml").write_text(feed_xml(case.given), encoding="utf-8")
    before = snapshot(project)
    code, out, err = run(["import", "feed.xml"], capsys)
    assert code in (0, 2), out + err
    assert "Traceback" not in out + err
    if code == 2:
        assert_one_line(code, out, err, "")
    changed = {name for name, size in snapshot(project).items() if before.get(name) != size}
    assert all(name.startswith("articles/") and name.endswith(".md") for name in changed), changed
    passwd = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    for name in changed:
        article = load_article(project / name)  # a written article is a valid article
        text = (project / name).read_text(encoding="utf-8")
        assert article.url.startswith(("https://", "http://"))
        assert "\n" not in article.title and "<script" not in text.lower() and "onerror" not in text.lower()
        assert "javascript:" not in str(article.body_html).lower()
        assert passwd not in text and "a" * 1000 not in text


@pytest.mark.parametrize("case", SKIPPED_CSV, ids=ids(SKIPPED_CSV))
def test_subscriber_import_rows(
    case: Case, project: Path, on_each_backend: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same rows through `subscribers import`: refused, naming the row, with nothing written
    (no file, no database); with --skip-invalid the good row is added, the bad one skipped with
    its line and reason (exit 1), and nothing from it reaches the list of record."""
    from newsletter.store import exists, open_store
    from newsletter.store import subscribers as store

    write_csv(project / "list.csv", str(case.given) + "good@example.org,Good,2018-01-01\n")
    before = snapshot(project)
    code, out, err = run(["subscribers", "import", "list.csv"], capsys)
    assert code == 2 and err.startswith("error: list.csv:2: ") and "Traceback" not in err, out + err
    assert snapshot(project) == before and not exists(on_each_backend)
    code, out, err = run(["subscribers", "import", "list.csv", "--skip-invalid"], capsys)
    assert code == 1, out + err
    assert "1 added" in out and "1 skipped" in out and case.expect in out
    with open_store(on_each_backend) as opened:
        emails = [row[0] for row in opened.db.execute("SELECT email FROM subscribers")]
        assert emails == ["good@example.org"]
        assert store.get(opened.db, "good@example.org") is not None


@pytest.mark.parametrize("case", corpus.ARCHIVE, ids=ids(corpus.ARCHIVE))
def test_archive_rows(case: Case, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import xml.etree.ElementTree as ET

    for other in (project / "issues").glob("*.yaml"):
        if other.stem != "spring-2018":
            other.unlink()
    issue = project / "issues" / "spring-2018.yaml"
    text = issue.read_text(encoding="utf-8")
    for field, value in case.given.items():  # type: ignore[attr-defined]
        line = f"{field}: {json.dumps(value)}"
        text = re.sub(rf"^{field}: .*$", lambda _match, line=line: line, text, count=1, flags=re.M)
    issue.write_text(text, encoding="utf-8")
    code, out, err = run(["archive", "--include-unsent", "--out", "site"], capsys)
    if code == 2:
        assert_one_line(code, out, err, "spring-2018.yaml")
        assert not (project / "site").exists()
        return
    assert code == 0, out + err
    pages = {p.name: p.read_text(encoding="utf-8") for p in (project / "site").iterdir() if p.is_file()}
    for name, page in pages.items():
        assert "<script>alert(1)" not in page and "<img src=x" not in page, name
        if name.endswith(".xml"):
            ET.fromstring(page.encode("utf-8"))  # well-formed
    if case.id == "subject-template":
        assert "{{ 7*7 }}" in pages["index.html"]  # shown as written, never evaluated


def _write_key(path: Path, kind: str) -> None:
    """A key file of the shape a DKIM row names (see corpus.DKIM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    pem, none = serialization.Encoding.PEM, serialization.NoEncryption()
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    if kind == "garbage":
        data = b"-----BEGIN RSA PRIVATE KEY-----\nnot base64 at all\n-----END RSA PRIVATE KEY-----\n"
    elif kind == "public":
        data = (
            rsa.generate_private_key(65537, 2048)
            .public_key()
            .public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    elif kind == "encrypted":
        data = rsa.generate_private_key(65537, 2048).private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")
        )
    elif kind == "ec":
        data = ec.generate_private_key(ec.SECP256R1()).private_bytes(pem, serialization.PrivateFormat.PKCS8, none)
    elif kind == "empty":
        data = b""
    elif kind == "huge":
        data = b"A" * (1024 * 1024)
    else:
        data = rsa.generate_private_key(65537, 2048).private_bytes(pem, traditional, none)
    path.write_bytes(data)


@pytest.mark.parametrize("case", corpus.DKIM, ids=ids(corpus.DKIM))
def test_dkim_setting_rows(
    case: Case, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert isinstance(case.given, dict)
    (project / "keys").mkdir()
    _write_key(project / "keys" / "dkim.pem", "valid")
    values = {
        "DKIM_DOMAIN": "stockport-office.test",
        "DKIM_SELECTOR": "news2026",
        "DKIM_PRIVATE_KEY": "keys/dkim.pem",
        **case.given,
    }
    key = values["DKIM_PRIVATE_KEY"]
    if key.startswith("<key:"):
        values["DKIM_PRIVATE_KEY"] = f"keys/{key[5:-1]}.pem"
        _write_key(project / values["DKIM_PRIVATE_KEY"], key[5:-1])
    for name, value in values.items():
        if "\x00" in value:  # the environment cannot hold NUL: the same value comes from .env
            (project / ".env").write_text(f'{name}="{value}"\n', encoding="utf-8")
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    before = snapshot(project)
    code, out, err = run(["build", "spring-2018"], capsys)
    assert_one_line(code, out, err, case.expect)
    assert snapshot(project) == before


def test_a_valid_dkim_key_builds(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The DKIM rows fail because of what each changes, not because signing never works here."""
    (project / "keys").mkdir()
    _write_key(project / "keys" / "dkim.pem", "valid")
    for name, value in {
        "DKIM_DOMAIN": "stockport-office.test",
        "DKIM_SELECTOR": "news2026",
        "DKIM_PRIVATE_KEY": "keys/dkim.pem",
    }.items():
        monkeypatch.setenv(name, value)
    code, _out, err = run(["build", "spring-2018"], capsys)
    assert code == 0, err
    assert b"DKIM-Signature: " in (project / "build" / "spring-2018.eml").read_bytes()
