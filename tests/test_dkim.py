"""DKIM signatures, verified by dkimpy fed the public key locally (no DNS), and keygen."""

from __future__ import annotations

import base64
from pathlib import Path

import dkim
import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.people import Subscriber
from newsletter.content.issue import resolve_issue_path
from newsletter.mail.compose import Composed, compose
from newsletter.mail.dkim import SIGNED, generate_key
from newsletter.settings import load_settings
from tests.conftest import REAL_SETTINGS, REPO, Run


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    pem, public = generate_key(2048)
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(pem)
    return path, f"v=DKIM1; k=rsa; p={public}".encode()


@pytest.fixture(scope="module")
def signed(key: tuple[Path, bytes]) -> Composed:
    env = {
        **REAL_SETTINGS,
        "DKIM_DOMAIN": "stockport-office.test",
        "DKIM_SELECTOR": "news2026",
        "DKIM_PRIVATE_KEY": str(key[0]),
    }
    return compose(resolve_issue_path("spring-2018", REPO), load_settings(env))


def verify(data: bytes, record: bytes) -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news2026._domainkey.stockport-office.test."
        return record

    return bool(dkim.verify(data, dnsfunc=dns))


@given(first=st.text(alphabet="a é\t.", max_size=30), last=st.text(alphabet="bß ", max_size=30))
def test_every_message_verifies(signed: Composed, key: tuple[Path, bytes], first: str, last: str) -> None:
    message = signed.factory.build(Subscriber("reader@example.org", first, last), wire=True)
    assert verify(message.data, key[1])
    assert message.wire.startswith(b"DKIM-Signature: ")


def test_signature_covers_the_headers_rfc_8058_requires(signed: Composed, key: tuple[Path, bytes]) -> None:
    data = signed.factory.build(Subscriber("reader@example.org", "Ann")).data
    header = data.split(b"\r\n\r\n", 1)[0].decode()
    tags = dict(
        t.strip().split("=", 1)
        for t in header.split("DKIM-Signature:", 1)[1].split("\r\nTo:")[0].replace("\r\n\t", "").split(";")
        if "=" in t
    )
    assert tags["a"] == "rsa-sha256" and tags["c"] == "relaxed/relaxed" and tags["d"] == "stockport-office.test"
    assert tags["h"].split(":") == [name.lower() for name in SIGNED]


def test_a_changed_byte_fails_verification(signed: Composed, key: tuple[Path, bytes]) -> None:
    data = signed.factory.build(Subscriber("reader@example.org", "Ann")).data
    assert verify(data, key[1])
    assert not verify(data.replace(b"token=", b"token=X", 1), key[1])
    assert not verify(
        data.replace(
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: List-Unsubscribe=Two-Click"
        ),
        key[1],
    )


def test_only_some_dkim_settings_names_the_missing_one(run_cli: Run) -> None:
    result = run_cli("send", "spring-2018", "--dry-run", env={**REAL_SETTINGS, "DKIM_DOMAIN": "stockport-office.test"})
    assert result.returncode == 2 and "DKIM_SELECTOR" in result.stderr and "Traceback" not in result.stderr


def test_an_unreadable_key_names_the_setting(run_cli: Run, project: Path) -> None:
    (project / "bad.pem").write_text("not a key\n")
    env = {
        **REAL_SETTINGS,
        "DKIM_DOMAIN": "stockport-office.test",
        "DKIM_SELECTOR": "s1",
        "DKIM_PRIVATE_KEY": "bad.pem",
    }
    result = run_cli("send", "spring-2018", "--dry-run", env=env)
    assert result.returncode == 2 and "DKIM_PRIVATE_KEY" in result.stderr and "bad.pem" in result.stderr


def test_keygen_writes_a_private_key_and_prints_a_record_that_verifies(run_cli: Run, project: Path) -> None:
    result = run_cli(
        "dkim",
        "keygen",
        "--selector",
        "news2026",
        "--domain",
        "stockport-office.test",
        "--key",
        "keys/dkim.pem",
        env=REAL_SETTINGS,
    )
    assert result.returncode == 0, result.stderr
    path = project / "keys" / "dkim.pem"
    assert path.stat().st_mode & 0o077 == 0, "the private key is readable by its owner only"
    assert "news2026._domainkey.stockport-office.test. IN TXT" in result.stdout
    record = "".join(part for part in result.stdout.split("(", 1)[1].split(")", 1)[0].split('"')[1::2])
    public = record.split("p=", 1)[1]
    assert base64.b64decode(public)
    env = {
        **REAL_SETTINGS,
        "DKIM_DOMAIN": "stockport-office.test",
        "DKIM_SELECTOR": "news2026",
        "DKIM_PRIVATE_KEY": "keys/dkim.pem",
    }
    composed = compose(resolve_issue_path("spring-2018", project), load_settings(env))
    assert verify(composed.factory.build(Subscriber("reader@example.org", "Ann")).data, record.encode())
    again = run_cli("dkim", "keygen", "--selector", "news2026", "--key", "keys/dkim.pem", env=REAL_SETTINGS)
    assert again.returncode == 2 and "already" in again.stderr


@pytest.mark.parametrize(
    "option, value", [("--selector", "s;1"), ("--selector", "s 1"), ("--domain", "example.org; l=0")]
)
def test_keygen_refuses_a_selector_or_domain_that_is_not_a_dns_name(
    run_cli: Run, project: Path, option: str, value: str
) -> None:
    args = {"--selector": "news2026", "--domain": "stockport-office.test", option: value}
    result = run_cli("dkim", "keygen", *[part for pair in args.items() for part in pair], "--key", "dkim.pem")
    assert result.returncode == 2 and result.stderr.startswith(f"error: {option}: "), result.stderr
    assert not (project / "dkim.pem").exists()
