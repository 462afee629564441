"""Bounce fixtures (written to the published DSN shapes) and mailboxes built from them."""

from __future__ import annotations

import email
import mailbox
from email.message import Message
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"
# The original Message-ID and token written in the fixtures; tests swap in real ones.
ORIGINAL_ID = "<spring-2018.0123456789abcdef0123@stockport-office.test>"
TOKEN = "UNSUBSCRIBE-TOKEN"

# fixture -> (kind, the address it concerns)
EXPECTED = {
    "postfix-hard.eml": ("hard", "d.okafor@example.com"),
    "exim-hard.eml": ("hard", "zoe.brennan@example.org"),
    "exim-plain.eml": ("hard", "lukasz.nowak@example.org"),
    "m365-hard.eml": ("hard", "siobhan.murphy@example.com"),
    "gmail-hard.eml": ("hard", "p.shah@example.com"),
    "gmail-soft.eml": ("soft", "tom.whitworth@example.org"),
    "arf-complaint.eml": ("complaint", "helen.taylor@example.org"),
    "unsubscribe-mailto.eml": ("unsubscribe", "margaret.hughes@example.org"),
}


def fixture_text(name: str, *, message_id: str = ORIGINAL_ID, token: str = TOKEN, **replace: str) -> str:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    text = text.replace(ORIGINAL_ID, message_id).replace(TOKEN, token)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def parse(text: str) -> Message:
    return email.message_from_string(text)


def write_mbox(path: Path, texts: list[str]) -> Path:
    """An mbox file with these messages, as a mail client or `formail` would leave it."""
    box = mailbox.mbox(path, create=True)
    try:
        for text in texts:
            box.add(mailbox.mboxMessage(email.message_from_string(text)))
        box.flush()
    finally:
        box.close()
    return path


def write_maildir(path: Path, texts: list[str]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for text in texts:
        box.add(mailbox.MaildirMessage(email.message_from_string(text)))
    return path
