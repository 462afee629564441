"""DKIM signatures (RFC 6376): rsa-sha256, relaxed/relaxed, made cheaply for each recipient.

Each recipient's body differs from the next only in a few spliced values (greeting, address,
unsubscribe link), so the relaxed canonical form of the static parts is made once per issue;
per recipient only the short values are canonicalised, the body hash is one SHA-256 pass
(~30 us for 50 KB) and the RSA signature (OpenSSL, via `cryptography`) is the main cost.
Signed headers include both List-Unsubscribe headers, as RFC 8058 section 4 requires.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from newsletter.errors import ConfigError
from newsletter.gates.headers import CONTROL

SIGNED = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post")
MIN_BITS = 1024
KEY_BITS = 2048
MAX_KEY_BYTES = 64 * 1024  # a 16,384-bit PEM key is about 13 KB; anything far larger is not a key
_WSP_RUN = re.compile(rb"[ \t]+")
_TRAILING_WSP = re.compile(rb" (?=\r\n)")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
SETTINGS = ("DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY")  # all three, or none


def relaxed_body(part: bytes) -> bytes:
    """Relaxed body canonicalisation of whole CRLF-ended lines (RFC 6376 3.4.4)."""
    return _TRAILING_WSP.sub(b"", _WSP_RUN.sub(b" ", part))


def relaxed_header(name: str, value: bytes) -> bytes:
    """Relaxed header canonicalisation (RFC 6376 3.4.2): `name:value` then CRLF."""
    unfolded = value.replace(b"\r\n", b"")
    return name.lower().encode() + b":" + _WSP_RUN.sub(b" ", unfolded).strip(b" \t") + b"\r\n"


def header_values(block: bytes) -> dict[str, bytes]:
    """Header name (lower case) -> raw value, from a block of folded `Name: value` lines."""
    values: dict[str, bytes] = {}
    for field in re.split(rb"\r\n(?![ \t])", block):
        if b":" in field:
            name, _, value = field.partition(b":")
            values[name.decode("ascii").strip().lower()] = value
    return values


@dataclass(frozen=True)
class DkimSettings:
    domain: str
    selector: str
    key_path: Path


def dkim_settings(env: Mapping[str, str], root: Path | None = None) -> DkimSettings | None:
    """DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY: all three, or none (no signing)."""
    values = {name: env.get(name, "").strip() for name in SETTINGS}
    given = [name for name in SETTINGS if values[name]]
    if not given:
        return None
    missing = [name for name in SETTINGS if not values[name]]
    if missing:
        raise ConfigError(f"{missing[0]}: must be set too when {given[0]} is set (DKIM needs all three)")
    for name in ("DKIM_DOMAIN", "DKIM_SELECTOR"):
        check_dns_name(name, values[name])
    if CONTROL.search(values["DKIM_PRIVATE_KEY"]):
        raise ConfigError("DKIM_PRIVATE_KEY: the path contains a control character")
    path = Path(values["DKIM_PRIVATE_KEY"]).expanduser()
    if root is not None and not path.is_absolute():
        path = root / path
    return DkimSettings(values["DKIM_DOMAIN"].lower(), values["DKIM_SELECTOR"], path)


def check_dns_name(name: str, value: str) -> str:
    """A selector or signing domain: DNS labels only (a `;` would add a tag to the signature)."""
    if not _DNS_NAME.fullmatch(value) or len(value) > 253:
        raise ConfigError(f"{name}: {value[:80]!r} is not a DNS name")
    return value


def load_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise ConfigError(f"DKIM_PRIVATE_KEY: {path} is too large to be a PEM private key")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"DKIM_PRIVATE_KEY: cannot read {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"DKIM_PRIVATE_KEY: {path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"DKIM_PRIVATE_KEY: {path} is not an RSA key (rsa-sha256 needs one)")
    if key.key_size < MIN_BITS:
        raise ConfigError(f"DKIM_PRIVATE_KEY: {path} is a {key.key_size}-bit key; at least {MIN_BITS} bits are needed")
    return key


class Signer:
    """Signs one issue's messages: static header and body parts canonicalised once."""

    def __init__(self, settings: DkimSettings, static_headers: bytes) -> None:
        self.settings = settings
        self.key = load_key(settings.key_path)
        static = header_values(static_headers)
        self.static = {name: relaxed_header(name, static[name.lower()]) for name in SIGNED if name.lower() in static}
        self.tags = (
            f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={settings.domain}; s={settings.selector};\r\n"
            f"\th={':'.join(name.lower() for name in SIGNED)};\r\n"
        ).encode()

    def body_hash(self, parts: Iterable[bytes]) -> bytes:
        """Parts already in relaxed canonical form, in order."""
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part)
        return base64.b64encode(digest.digest())

    def header(self, recipient_headers: bytes, body_hash: bytes, timestamp: int) -> bytes:
        """The DKIM-Signature header line(s) for one message, CRLF-terminated."""
        own = header_values(recipient_headers)
        signed = b"".join(
            self.static[name] if name in self.static else relaxed_header(name, own[name.lower()]) for name in SIGNED
        )
        value = self.tags + b"\tt=" + str(timestamp).encode() + b"; bh=" + body_hash + b";\r\n\tb="
        to_sign = signed + relaxed_header("DKIM-Signature", value)[:-2]
        signature = base64.b64encode(self.key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256()))
        folded = b"\r\n\t".join(signature[i : i + 72] for i in range(0, len(signature), 72))
        return b"DKIM-Signature: " + value + folded + b"\r\n"


def generate_key(bits: int = KEY_BITS) -> tuple[bytes, str]:
    """A new RSA key as PEM, and the `p=` value of its DNS record (base64 of the public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(public).decode("ascii")


def dns_record(selector: str, domain: str, public: str) -> str:
    """The TXT record to publish, in zone-file form (long values split into 255-byte strings)."""
    value = f"v=DKIM1; k=rsa; p={public}"
    chunks = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
    return f"{selector}._domainkey.{domain}. IN TXT ( {chunks} )"
