"""The preview server without a browser: the real `newsletter preview` process over HTTP.

Routes, path traversal, the host check, live rebuilds through server-sent events, the error
view and its recovery, and a clean Ctrl-C.
"""

from __future__ import annotations

import email.policy
import http.client
import socket
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from newsletter.audience.people import Subscriber
from newsletter.mail.compose import compose
from newsletter.settings import load_settings, read_environment
from tests.conftest import Run
from tests.support.browser import Preview, edit, preview, save_by_rename, wait_for

ISSUE = Path("issues/spring-2018.yaml")
ARTICLE = Path("articles/sent-away-children-inquiry.md")

TRAVERSALS = [
    "/../pyproject.toml",
    "/assets/../../pyproject.toml",
    "/assets/../issues/spring-2018.yaml",
    "/assets/%2e%2e/%2e%2e/issues/spring-2018.yaml",
    "/assets/%2E%2E%2Fissues%2Fspring-2018.yaml",
    "/assets/..%2f..%2fissues%2fspring-2018.yaml",
    "/%2e%2e%2fissues%2fspring-2018.yaml",
    "/assets/page.js/../../issues/spring-2018.yaml",
    "/assets/..\\..\\issues\\spring-2018.yaml",
    "/assets/%252e%252e/issues/spring-2018.yaml",
    "//issues/spring-2018.yaml",
    "/issues/spring-2018.yaml",
    "/articles/sent-away-children-inquiry.md",
    "/templates/newsletter.mjml.j2",
    "/subscribers.example.csv",
    "/assets/",
    "/assets/page.js%00.html",
    "/etc/passwd",
    "/.env",
    "http://127.0.0.1/../issues/spring-2018.yaml",
]


def test_only_its_own_routes_are_served(project: Path) -> None:
    (project / ".env").write_text("UNSUBSCRIBE_SECRET=do-not-leak-this-secret\n", encoding="utf-8")
    with preview(project) as running:
        for path in ("/", "/assets/page.js", "/assets/page.css", "/state.json", "/message.html", "/message.eml"):
            status, _headers, _body = running.get(path)
            assert status == 200, path
        for path in TRAVERSALS:
            status, _headers, body = running.get(path)
            assert status == 404, f"{path} answered {status}"
            assert b"subject:" not in body and b"do-not-leak" not in body and b"featured" not in body


def test_security_headers_and_host_check(project: Path) -> None:
    with preview(project) as running:
        status, headers, _ = running.get("/")
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "connect-src 'self'" in csp
        assert "default-src 'none'" in csp
        _, message_headers, _ = running.get("/message.html")
        assert "script-src" not in message_headers["content-security-policy"]  # default-src 'none': no scripts
        # A page on another site that rebinds its DNS name to 127.0.0.1 must not read the reader list.
        status, _, body = running.get("/state.json", host=f"attacker.example:{running.port}")
        assert status == 403 and b"@" not in body
        status, _, _ = running.get("/state.json", host=f"localhost:{running.port}")
        assert status == 200


def test_listens_on_loopback_only(project: Path) -> None:
    with preview(project) as running:
        assert running.url.startswith("http://127.0.0.1:")
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            if Path(table).exists():
                for line in Path(table).read_text().splitlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == running.port:
                        listening.append(local.rsplit(":", 1)[0])
        assert listening == ["0100007F"], listening  # 127.0.0.1, and not 0.0.0.0 or ::


def test_page_data_is_the_real_message(project: Path) -> None:
    """The HTML part served for the iframe is byte for byte the one `send` would deliver."""
    reader = "margaret.hughes@example.org"
    with preview(project, "spring-2018", "--subscriber", reader) as running:
        state = running.state()
        assert state["reader"] == reader and state["problem"] is None
        headers = dict(state["message"]["headers"])
        assert headers["To"] == f"Margaret Hughes <{reader}>"
        for name in ("From", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"):
            assert headers[name], name
        status, _, served_html = running.get(state["message"]["htmlUrl"])
        assert status == 200
        _, eml_headers, eml = running.get(state["message"]["emlUrl"])
        assert eml_headers["content-type"] == "message/rfc822"

    composed = compose(ISSUE, load_settings(read_environment(project / ".env")))
    sent = BytesParser(policy=email.policy.default).parsebytes(
        composed.factory.build(Subscriber(reader, "Margaret", "Hughes")).data
    )
    assert isinstance(sent, EmailMessage)
    html_part = sent.get_body(("html",))
    assert html_part is not None
    assert served_html == html_part.get_payload(decode=True)
    assert state["message"]["htmlBytes"] == len(served_html)
    assert state["message"]["messageBytes"] == len(eml)
    assert state["message"]["gmailLimit"] == 102 * 1024
    assert "Dear Margaret" in state["message"]["text"]
    assert headers["Message-ID"] in eml.decode()  # the headers shown belong to the bytes offered


def test_save_pushes_an_event_and_a_new_build(project: Path) -> None:
    with preview(project) as running:
        # The timeout only caps each wait for the next line (speed is benchmarks/preview_rebuild.py's).
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=60)
        connection.request("GET", "/events")
        events = connection.getresponse()
        assert events.getheader("Content-Type") == "text/event-stream"
        assert b"retry:" in events.readline()
        events.readline()
        assert events.readline() == b"event: rebuild\n"
        assert b'"version": 1' in events.readline()
        edit(project / ARTICLE, "title:", "title: Live")
        events.readline()
        assert events.readline() == b"event: rebuild\n"
        assert b'"version": 2' in events.readline()
        connection.close()
        assert "Live" in running.state()["message"]["text"]


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        ("templates/partials/card.mjml.j2", "{{ a.title }}</a></h3>", "{{ a.title }</a></h3>", "card.mjml.j2:{line}"),
        (str(ISSUE), "  - chief-constables-letters", "  - no-such-article", "yaml:{line}: article 'no-such"),
        (".env", "", "NEWSLETTER_WEBSITE=ftp://nowhere\n", "NEWSLETTER_WEBSITE"),
        # A template that fails at render time is bad input since issue 12: one line, file and line.
        (
            "templates/newsletter.txt.j2",
            "{{",
            "{{ 1 // 0 }}{{",
            "newsletter.txt.j2:{line}: template failed while rendering: ZeroDivisionError",
        ),
    ],
    ids=["template-syntax", "missing-article", "bad-env-setting", "template-exception"],
)
def test_a_broken_save_shows_the_error_and_the_next_good_save_recovers(
    project: Path, path: str, old: str, new: str, expected: str
) -> None:
    target = project / path
    original = target.read_text(encoding="utf-8") if target.exists() else ""
    line = original[: original.find(old)].count("\n") + 1 if old else 0
    expected = expected.format(line=line)
    with preview(project) as running:
        assert running.state()["problem"] is None
        save_by_rename(target, original.replace(old, new, 1) if old else original + new)
        problem = wait_for(lambda: running.state()["problem"], 60, f"the error from {path}")
        assert expected in "\n".join(problem["lines"]), problem
        assert problem["kind"] == "input"
        assert running.get("/message.html")[0] == 409
        save_by_rename(target, original)
        wait_for(lambda: running.state()["message"], 60, "the preview to come back")
        assert running.process.poll() is None
        code, stderr = running.stop()
    assert code in (0, 130) and "Traceback" not in stderr


def test_ctrl_c_stops_cleanly_and_nothing_is_sent_or_recorded(project: Path) -> None:
    running = Preview(project, "spring-2018")
    running.state()
    code, stderr = running.stop()
    assert code in (0, 130)
    assert "Traceback" not in stderr
    for written in ("outbox", ".newsletter", "build"):
        assert not (project / written).exists(), f"the preview wrote {written}/"


def test_port_in_use_and_unknown_issue_fail_with_one_line(run_cli: Run) -> None:
    run = run_cli
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("preview", "spring-2018", "--no-browser", "--port", str(port), timeout=30)
    assert result.returncode == 2 and f"127.0.0.1:{port}: cannot listen" in result.stderr, result.stderr
    assert "--port 0" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("preview", "no-such-issue", "--no-browser", "--port", "0", timeout=30)
    assert result.returncode == 2 and "issue file not found" in result.stderr


def test_env_and_subscriber_list_edits_show_without_a_restart(project: Path) -> None:
    csv = project / "subscribers.example.csv"
    with preview(project) as running:
        assert "Ann Coffey MP <news@example.org>" in dict(running.state()["message"]["headers"])["From"]
        (project / ".env").write_text(
            'NEWSLETTER_FROM="Stockport Office <news@stockport-office.test>"\n', encoding="utf-8"
        )
        wait_for(
            lambda: "stockport-office.test" in dict(running.state()["message"]["headers"])["From"],
            60,
            "the From header from .env",
        )
        with csv.open("a", encoding="utf-8") as handle:
            handle.write("new.reader@example.org,Nia,Reader,Heatons North,newsletter,2024-01-02\n")
        wait_for(
            lambda: any(r["email"] == "new.reader@example.org" for r in running.state()["readers"]),
            60,
            "the new subscriber in the picker",
        )
        state = running.state("new.reader@example.org")
        assert dict(state["message"]["headers"])["To"] == "Nia Reader <new.reader@example.org>"
        assert "Dear Nia" in state["message"]["text"]


def test_bad_options_exit_2(run_cli: Run) -> None:
    result = run_cli("preview", "spring-2018", "--no-browser", "--subscriber", "not an address", timeout=30)
    assert result.returncode == 2 and "--subscriber" in result.stderr
    result = run_cli("preview", "spring-2018", "--no-browser", "--subscribers", "missing.csv", timeout=30)
    assert result.returncode == 2 and "missing.csv: subscriber list not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_readers_are_the_list_of_record_as_send_reads_it(project: Path, run_cli: Run) -> None:
    """Once the database holds the list, the picker offers its subscribed people (as `send`
    mails them), not the CSV's; and an unsubscribe shows on the next request."""
    only = "dana.base@example.org"
    added = run_cli("subscribers", "add", only, "--first-name", "Dana", "--last-name", "Base", "--consent", "letter")
    assert added.returncode == 0, added.stderr
    with preview(project) as running:
        readers = [r["email"] for r in running.state()["readers"]]
        assert only in readers and "margaret.hughes@example.org" not in readers, readers
        assert running.state()["readersTotal"] == 1
        state = running.state(only)
        assert (
            dict(state["message"]["headers"])["To"] == f"Dana Base <{only}>" and "Dear Dana" in state["message"]["text"]
        )
        assert run_cli("subscribers", "remove", only).returncode == 0
        assert only not in [r["email"] for r in running.state()["readers"]]
