"""The settings gate: every setting checked when loaded, with its range (issue 12)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.delivery.relays import smtp_settings
from newsletter.errors import ConfigError
from newsletter.gates import values
from newsletter.settings import load_settings
from tests.hostile.strategies import header_input, hostile_text

DIGITISH = "0123456789\u00b2\u00b3\u00b9\u0663\u06f4\u07c0_ -+.eE"  # superscripts, Arabic-Indic, NKo


@given(st.one_of(hostile_text(), st.integers().map(str), st.text(alphabet=DIGITISH, max_size=25)))
def test_a_whole_number_setting_is_in_range_or_one_line(raw: str) -> None:
    try:
        value = values.whole_number("SMTP_CONNECTIONS", raw)
    except ConfigError as exc:
        assert str(exc).startswith("SMTP_CONNECTIONS: ") and "\n" not in str(exc)
        return
    assert 1 <= value <= 1000 and raw.strip().isascii() and raw.strip().isdigit()


@given(st.one_of(hostile_text(), st.floats().map(str), st.text(alphabet="0123456789.eE-+nafi", max_size=12)))
def test_a_decimal_setting_is_finite_and_in_range_or_one_line(raw: str) -> None:
    try:
        value = values.decimal("SMTP_RETRY_DELAY", raw)
    except ConfigError as exc:
        assert str(exc).startswith("SMTP_RETRY_DELAY: ") and "\n" not in str(exc)
        return
    assert 0 <= value <= 3600


URL_PIECES = st.sampled_from(
    [
        "https://",
        "http://",
        "www.example.org",
        "127.0.0.1",
        "/unsubscribe",
        "?",
        "&",
        "token=1",
        "a=b",
        "#top",
        "user:pw@",
        ">",
        ",<https://evil.example.net>",
        " ",
        "%0D%0A",
        ":8443",
        ":99999",
        "\r\n",
        '"',
        "mailto:x@example.org",
    ]
)


@given(st.one_of(hostile_text(), st.lists(URL_PIECES, max_size=7).map("".join)))
def test_a_url_setting_carries_only_a_url(raw: str) -> None:
    try:
        value = values.web_url("UNSUBSCRIBE_URL", raw, reserved_keys=("token",))
    except ConfigError as exc:
        assert str(exc).startswith("UNSUBSCRIBE_URL: ") and "\n" not in str(exc)
        return
    parts = urlsplit(value)
    assert parts.scheme in ("https", "http") and parts.hostname
    assert not any(c in value for c in '<>", \r\n#@')
    assert "token" not in dict(p.split("=", 1) for p in parts.query.split("&") if p)


@given(
    st.one_of(
        header_input(),
        st.lists(
            st.sampled_from(
                ["mailto:", "unsubscribe", "@", "example.org", "?bcc=", "x@example.net", ",", "&", " ", "<", ">"]
            ),
            max_size=6,
        ).map("".join),
    )
)
def test_a_mailto_setting_is_one_plain_address(raw: str) -> None:
    try:
        address = values.mailto_address("UNSUBSCRIBE_MAILTO", raw)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert address.count("@") == 1 and not any(c in address for c in "?&,<> =:")


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("SMTP_CONNECTIONS", "99999999999999999999", "SMTP_CONNECTIONS"),
        ("SMTP_CONNECTIONS", "1001", "out of range"),
        ("SMTP_CONNECTIONS", "0", "out of range"),
        ("SMTP_CONNECTIONS", "²", "digits 0-9"),
        ("SMTP_CONNECTIONS", "٣", "digits 0-9"),
        ("SMTP_CONNECTIONS", "1_0", "digits 0-9"),
        ("SMTP_PORT", "65536", "out of range"),
        ("SMTP_PORT", "-25", "digits 0-9"),
        ("SMTP_RETRY_DELAY", "nan", "not a number"),
        ("SMTP_RETRY_DELAY", "1e9", "not a number"),
        ("SMTP_TIMEOUT", "inf", "not a number"),
    ],
)
def test_smtp_number_settings_are_refused_with_one_line(name: str, raw: str, message: str) -> None:
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_SECURITY": "none", name: raw}
    with pytest.raises(ConfigError, match=message) as info:
        smtp_settings(env)
    assert str(info.value).startswith(name) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("UNSUBSCRIBE_URL", "https://www.example.org/u?bcc=x@example.net"),
        ("UNSUBSCRIBE_URL", "https://www.example.org/u>, <https://evil.example.net/"),
        ("UNSUBSCRIBE_URL", "https://user:pw@www.example.org/u"),
        ("UNSUBSCRIBE_URL", "https://www.example.org/u#x"),
        ("UNSUBSCRIBE_URL", "https://www.example.org/u?token=forged"),
        ("UNSUBSCRIBE_URL", "http://www.example.org/u"),
        ("UNSUBSCRIBE_URL", "javascript:alert(1)//www.example.org"),
        ("NEWSLETTER_WEBSITE", 'https://www.example.org/"onmouseover=alert(1)'),
        ("NEWSLETTER_ARCHIVE_URL", "https:///nohost"),
        ("UNSUBSCRIBE_MAILTO", "unsubscribe@example.org?bcc=victim@example.net"),
        ("UNSUBSCRIBE_MAILTO", "mailto:unsubscribe@example.org?subject=x"),
        ("UNSUBSCRIBE_MAILTO", "unsubscribe@example.org,victim@example.net"),
        ("UNSUBSCRIBE_MAILTO", "unsubscribe@example.org>"),
        ("NEWSLETTER_FROM", "=?utf-8?q?Ann=0D=0ABcc:_victim@example.net?= <news@example.org>"),
        ("NEWSLETTER_REPLY_TO", "=?utf-8?b?QW5uDQpCY2M6IHZpY3RpbUBleGFtcGxlLm5ldA==?= <office@example.org>"),
        ("NEWSLETTER_FROM", "news@example.org, other@example.net"),
        ("NEWSLETTER_LIST_ID", "=?utf-8?q?x=0D=0ABcc:_v@example.net?= <newsletter.example.org>"),
    ],
)
def test_newsletter_settings_carry_only_what_they_are_for(name: str, raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: raw})
    assert str(info.value).startswith(name) and "\n" not in str(info.value)


def test_settings_keep_good_values() -> None:
    settings = load_settings(
        {
            "UNSUBSCRIBE_URL": "https://www.example.org/u?list=spring",
            "UNSUBSCRIBE_MAILTO": "mailto:leave@example.org",
            "NEWSLETTER_FROM": "Zoë O'Brien <news@example.org>",
        }
    )
    assert settings.unsubscribe_url == "https://www.example.org/u?list=spring"
    assert settings.unsubscribe_mailto == "leave@example.org"
    assert settings.from_name == "Zoë O'Brien"
    assert (
        smtp_settings(
            {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_SECURITY": "none",
                "SMTP_PORT": "2525",
                "SMTP_CONNECTIONS": "1000",
                "SMTP_RETRY_DELAY": "0.5",
            }
        )
        is not None
    )
