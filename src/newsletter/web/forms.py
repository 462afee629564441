"""The fields a person types: read from a request, checked, and named in one error each.

Names are data (control characters become spaces, length capped); the ward must be one of
the configured wards and every topic one of the configured topics, so nothing a form sends
can invent a segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsletter.gates.address import check_address, clean_name
from newsletter.web.config import WebSettings
from newsletter.web.http import Request

NAME_MAX = 60


@dataclass(frozen=True)
class Details:
    """Name, ward and topics as a person chose them."""

    first_name: str = ""
    last_name: str = ""
    ward: str = ""
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignupForm:
    email: str = ""
    details: Details = field(default_factory=Details)
    consent: bool = False
    consent_version: str = ""
    form: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, object]:
        """What the page shows back in the fields."""
        d = self.details
        return {
            "email": self.email,
            "first_name": d.first_name,
            "last_name": d.last_name,
            "ward": d.ward,
            "topics": d.topics,
            "consent": self.consent,
        }


def read_details(request: Request, wards: tuple[str, ...], topics: tuple[str, ...], errors: dict[str, str]) -> Details:
    first = clean_name(request.field("first_name"))[:NAME_MAX]
    last = clean_name(request.field("last_name"))[:NAME_MAX]
    if not first:
        errors["first_name"] = "Enter your first name"
    ward = " ".join(request.field("ward").split())
    if ward and ward not in wards:
        errors["ward"] = "Choose a ward from the list"
        ward = ""
    chosen = [" ".join(t.split()).lower() for t in request.fields("topics")]
    if any(t not in topics for t in chosen):
        errors["topics"] = "Choose topics from the list"
    return Details(first, last, ward, tuple(t for t in topics if t in chosen))


def read_signup(request: Request, web: WebSettings) -> SignupForm:
    errors: dict[str, str] = {}
    raw = request.field("email").strip()
    email = raw[:254]
    if not raw:
        errors["email"] = "Enter your email address"
    else:
        try:
            email = check_address(raw)
        except ValueError:
            errors["email"] = "Enter an email address like name@example.org"
    details = read_details(request, web.wards, web.topics, errors)
    consent = request.field("consent") == "yes"
    if not consent:
        errors["consent"] = "Tick the box to say you want the newsletter"
    version = clean_name(request.field("consent_version"))[:40]
    form = clean_name(request.field("form"))[:40] or "form on another page"
    order = ("email", "first_name", "ward", "topics", "consent")
    ordered: dict[str, str] = {name: errors[name] for name in order if name in errors}
    return SignupForm(email, details, consent, version, form, ordered)
