"""The tutorial "Set up your own office" (docs/tutorial/set-up-your-office.md), run as a newcomer
runs it: every `sh` block of the page in order, in a fresh home folder, with `newsletter` on the
PATH, against a real SMTP relay (aiosmtpd with STARTTLS and a login) and with the pages it shows
opened in real Chromium. So the tutorial cannot go stale: a command that changed, an option that
went, an output it promises that no longer comes, fails here.

The page says what each block is with an HTML comment before it (invisible on the site):

- no comment: an `sh` block is run with bash (`-eu`, every line must succeed); other blocks
  (output, examples) are only read;
- `<!-- tutorial: append FILE -->` / `<!-- tutorial: write FILE -->`: the next block is what the
  reader adds to, or makes of, that file;
- `<!-- tutorial: background -->`: the next block starts a server the reader leaves running
  (`newsletter serve`, `newsletter preview`); the test adds `--port 0` and reads the URL it prints;
- `<!-- tutorial: answer y -->`: the next block asks a question on the terminal; the test runs it
  on a pseudo-terminal and answers `y`;
- `<!-- tutorial: browser STEP -->`: what the reader does in the browser, done by `STEP` below.

Only what cannot be real on a test machine is swapped (`SWAPS`): the relay's and the feed's
addresses, and the ports.
"""

from __future__ import annotations

import email
import email.policy
import os
import queue
import re
import shlex
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import trustme

from tests.conftest import REPO
from tests.support.feed_server import feed_server
from tests.support.smtpd import Server as Relay

TUTORIAL = REPO / "docs" / "tutorial" / "set-up-your-office.md"
DIRECTIVE = re.compile(r"<!-- tutorial: (.+?) -->")
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
YOU = "you@your-office.org.uk"
SUBJECT = "Parliamentary inquiry into \u2018sent away\u2019 children"
RELAY_LOGIN = ("news@your-office.org.uk", "the password your provider gave you")


@dataclass(frozen=True)
class Step:
    kind: str  # run, append, write, background, answer, browser
    text: str  # the block (commands or a file's text), or the browser step's name
    target: str = ""  # the file of append/write


def steps(page: str) -> list[Step]:
    """The page's steps in order: each directive applies to the block after it."""
    found = [(m.start(), "directive", m.group(1), "") for m in DIRECTIVE.finditer(page)]
    found += [(m.start(), "block", m.group(2), m.group(1)) for m in BLOCK.finditer(page)]
    out: list[Step] = []
    pending: tuple[str, str] | None = None
    for _, what, text, language in sorted(found):
        if what == "directive":
            verb, _, target = text.partition(" ")
            if verb == "browser":
                out.append(Step("browser", target))
            else:
                pending = (verb, target)
        elif pending is not None:
            out.append(Step(pending[0], text, pending[1]))
            pending = None
        elif language == "sh":
            out.append(Step("run", text))
    assert pending is None, f"a directive with no block after it: {pending}"
    return out


@dataclass
class Background:
    """A server the reader leaves running in its own terminal; the URL it printed."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    url: str = ""

    def wait_for_url(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline and not self.url:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            self.url = match.group(0) if match else ""
        assert self.url, f"no URL printed: {''.join(seen)!r}"
        return self.url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C, as the reader stops it
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Reader:
    """The newcomer: a home folder, a shell whose current folder carries from block to block."""

    home: Path
    env: dict[str, str]
    cwd: Path
    servers: dict[str, Background] = field(default_factory=dict)

    def script(self, commands: str) -> list[str]:
        marker = self.home / ".cwd"
        body = f"cd {shlex.quote(str(self.cwd))}\n{commands}\npwd > {shlex.quote(str(marker))}\n"
        return ["bash", "-euo", "pipefail", "-c", body]

    def run(self, commands: str, answer: str | None = None) -> str:
        if answer is None:
            result = subprocess.run(self.script(commands), env=self.env, capture_output=True, text=True, timeout=120)
            out, err, code = result.stdout, result.stderr, result.returncode
        else:  # on a terminal, as a person types the answer
            primary, secondary = os.openpty()
            process = subprocess.Popen(
                self.script(commands), env=self.env, stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            os.close(secondary)
            os.write(primary, answer.encode() + b"\n")
            raw_out, raw_err = process.communicate(timeout=120)
            os.close(primary)
            out, err, code = raw_out.decode(), raw_err.decode(), process.returncode
        assert code == 0 and "Traceback" not in err, f"the tutorial's\n{commands}\nfailed ({code}):\n{out}\n{err}"
        self.cwd = Path((self.home / ".cwd").read_text(encoding="utf-8").strip())
        return out

    def start(self, command: str) -> Background:
        assert command.strip().count("\n") == 0, f"a background block is one command: {command!r}"
        process = subprocess.Popen(
            self.script(f"exec {command.strip()} --port 0"),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running = Background(process)
        assert process.stdout is not None
        threading.Thread(target=lambda: [running.lines.put(line) for line in process.stdout], daemon=True).start()
        running.wait_for_url()
        self.servers[command.split()[1]] = running  # by subcommand: serve, preview
        return running


def emailed(relay: Relay, to: str, count: int) -> email.message.EmailMessage:
    """The count-th message the relay took for `to`, waiting for it (bounded)."""
    deadline = time.monotonic() + 60
    while True:
        mine = [r for r in relay.handler.received if to in r.recipients]
        if len(mine) >= count:
            message = email.message_from_bytes(mine[count - 1].data, policy=email.policy.default)
            assert isinstance(message, email.message.EmailMessage)
            return message
        assert time.monotonic() < deadline, f"no message {count} for {to} arrived"
        time.sleep(0.05)


def signup(reader: Reader, relay: Relay, page: Any) -> None:
    page.goto(reader.servers["serve"].url + "/subscribe")
    page.get_by_label("Email address").fill(YOU)
    page.get_by_label("First name").fill("Jo")
    page.locator("#consent").check()
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()


def confirm(reader: Reader, relay: Relay, page: Any) -> None:
    text = emailed(relay, YOU, 1).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [link] = re.findall(r"https://\S+\?token=\S+", text)
    served = urlsplit(reader.servers["serve"].url)
    page.goto(urlunsplit(urlsplit(link)._replace(scheme=served.scheme, netloc=served.netloc)))
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()


def preview(reader: Reader, relay: Relay, page: Any) -> None:
    page.goto(reader.servers["preview"].url)
    page.wait_for_selector("body[data-state=ok]")
    page.wait_for_function("() => document.getElementById('frame').dataset.loaded")
    frame = page.frame_locator("#frame")
    assert "surgery has moved to the library" in frame.locator("body").inner_text()


BROWSER: dict[str, Callable[[Reader, Relay, Any], None]] = {"signup": signup, "confirm": confirm, "preview": preview}


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[Relay, Path]]:
    """The office's relay: STARTTLS with a certificate from a throw-away CA, and a login."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "relay-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with Relay(tls=context, users=dict([RELAY_LOGIN])) as server:
        yield server, ca_file


def test_the_tutorial_runs_from_init_to_the_first_real_send(
    tmp_path: Path, relay: tuple[Relay, Path], chromium: Any
) -> None:
    server, ca_file = relay
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_", "DKIM_"))}
    env.update(
        HOME=str(home),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # `newsletter` as after activating
        NO_COLOR="1",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
        BROWSER="true",  # `preview` opens the reader's browser: here the test's Chromium does
        SMTP_PORT=str(server.port),  # the relay listens where the test machine lets it
        SMTP_CA_FILE=str(ca_file),  # and its certificate is from the test's own CA
    )
    reader = Reader(home, env, home)
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)  # a cap on each wait, generous for a loaded machine
    try:
        with feed_server() as (feed_base, _):
            swaps = {
                "smtp.your-office.org.uk": "127.0.0.1",
                "https://www.your-office.org.uk/feed/": f"{feed_base}/feed/",
            }
            page_text = TUTORIAL.read_text(encoding="utf-8")
            for old, new in swaps.items():
                assert old in page_text, f"the tutorial no longer mentions {old}: update SWAPS"
                page_text = page_text.replace(old, new)
            done, said = [], []
            for step in steps(page_text):
                if step.kind == "run":
                    said.append(reader.run(step.text))
                elif step.kind == "answer":
                    said.append(reader.run(step.text, answer=step.target))
                elif step.kind in ("append", "write"):
                    path = reader.cwd / step.target
                    mode = "a" if step.kind == "append" else "w"
                    with path.open(mode, encoding="utf-8") as file:
                        file.write(step.text)
                elif step.kind == "background":
                    reader.start(step.text)
                else:
                    BROWSER[step.text](reader, server, page)
                done.append(step.kind if step.kind != "browser" else step.text)
    finally:
        context.close()
        for running in reader.servers.values():
            running.stop()
    output = "".join(said)
    for promised in (  # what the page tells the reader they will see
        "3 added, 0 updated, 0 unchanged, 1 skipped, 1 no consent",
        "tom.baker@example.org  no consent",
        f'Send "{SUBJECT}" to 4 subscribers via the relay 127.0.0.1:{server.port} (STARTTLS)? [y/N]',
        "complete: 4 sent, 0 failed, 0 unknown",
    ):
        assert promised in output, f"the tutorial promises {promised!r}; the commands said:\n{output}"
    assert set(BROWSER) <= set(done), f"a browser step the tutorial no longer has: {set(BROWSER) - set(done)}"
    issue = [
        r
        for r in server.handler.received
        if email.message_from_bytes(r.data, policy=email.policy.default)["Subject"] == SUBJECT
    ]
    test_copy, *sent = issue
    assert test_copy.recipients == (YOU,)
    assert sorted(r for message in sent for r in message.recipients) == sorted(
        ["margaret.hughes@example.org", "d.okafor@example.com", "priya.shah@example.net", YOU]
    ), "the real send goes to the three people imported with consent and the one who signed up"
    assert server.logins and all(ok for _, ok in server.logins)
