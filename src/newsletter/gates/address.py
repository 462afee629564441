"""Addresses and display names: the gate for what a list, a form or a bounce says about a person.

Every address that enters (a CSV row, a web form, `--to`, a bounce) passes `check_address`;
every name that reaches a `To:` header passes `clean_name`.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from newsletter.gates.headers import CONTROL

NAME_MAX = 64


def clean_name(value: str) -> str:
    """Names are data: control characters (CR/LF included) become spaces; length is capped. The
    header gate's set, because a name becomes the display name of a `To:` header."""
    return " ".join(CONTROL.sub(" ", value).split())[:NAME_MAX]


def check_address(raw: str) -> str:
    """Normalise an address (syntax only, no DNS); raises ValueError with the reason."""
    if CONTROL.search(raw):
        raise ValueError("contains a line break or control character")
    try:
        result = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return str(result.ascii_email or result.normalized)
