"""`newsletter dkim keygen`: a DKIM key for signing, and the DNS record to publish."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.common import settings
from newsletter.cli.console import out_console
from newsletter.cli.vocabulary import renamed
from newsletter.errors import DeliveryError, InputError
from newsletter.fileio import write_atomic
from newsletter.mail.dkim import KEY_BITS, check_dns_name, dns_record, generate_key


@click.group()
def dkim() -> None:
    """DKIM signing keys: every message is signed when DKIM_DOMAIN, DKIM_SELECTOR and
    DKIM_PRIVATE_KEY are set.

    \b
    Example:
        newsletter dkim keygen --selector news2026 --domain stockport-office.example --out dkim.pem
    """


@dkim.command()
@click.option("--selector", default=None, help="The selector (default: $DKIM_SELECTOR), e.g. news2026.")
@click.option("--domain", default=None, help="The signing domain (default: $DKIM_DOMAIN, else the From domain).")
@renamed(
    "--out",
    "out_path",
    old=("--key",),
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the private key (default: $DKIM_PRIVATE_KEY).",
)
@click.option(
    "--bits", type=click.IntRange(min=1024, max=4096), default=KEY_BITS, show_default=True, help="RSA key size."
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
def keygen(selector: str | None, domain: str | None, out_path: Path | None, bits: int, force: bool) -> None:
    """Write a new RSA private key (readable by its owner only) and print the DNS TXT record
    that publishes its public half, plus the settings that switch signing on.

    \b
    Example:
        newsletter dkim keygen --selector news2026 --domain stockport-office.example --out dkim.pem
    """
    current = settings()
    env = current.env
    selector = selector or env.get("DKIM_SELECTOR", "").strip()
    domain = (domain or env.get("DKIM_DOMAIN", "").strip() or current.sender_domain).lower()
    raw_out = out_path or (Path(env["DKIM_PRIVATE_KEY"].strip()) if env.get("DKIM_PRIVATE_KEY", "").strip() else None)
    if not selector:
        raise InputError("--selector: no selector given (nor DKIM_SELECTOR)", hint="for example --selector news2026")
    check_dns_name("--selector", selector)
    check_dns_name("--domain", domain)
    if raw_out is None:
        raise InputError("--out: no key file given (nor DKIM_PRIVATE_KEY)", hint="for example --out dkim.pem")
    if raw_out.exists() and not force:
        raise InputError(
            f"{raw_out}: a key is already there (pass --force to replace it; the old DNS record then stops matching)"
        )
    pem, public = generate_key(bits)
    try:
        write_atomic(raw_out, pem, fsync=True, mode=0o600)
    except OSError as exc:
        raise DeliveryError(f"{raw_out}: cannot write the key: {exc.strerror}") from exc
    console = out_console()
    console.print(f"wrote a {bits}-bit RSA key to {raw_out}", highlight=False)
    console.print("publish this DNS record:", highlight=False)
    console.print(dns_record(selector, domain, public), highlight=False, soft_wrap=True)
    console.print(
        f"then set: DKIM_DOMAIN={domain} DKIM_SELECTOR={selector} DKIM_PRIVATE_KEY={raw_out}",
        highlight=False,
        soft_wrap=True,
    )


def register(group: click.Group) -> None:
    group.add_command(dkim)
