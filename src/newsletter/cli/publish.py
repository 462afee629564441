"""`newsletter archive`: the static web archive of sent issues, with its feed and sitemap."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.common import settings
from newsletter.cli.console import out_console
from newsletter.publish.archive import build_archive
from newsletter.publish.sent import sent_issues
from newsletter.publish.site import FEED


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("archive"),
              show_default=True, help="Folder for the site (rebuilt in place).")
@click.option("--include-unsent", is_flag=True,
              help="Also publish issues the journal does not record as sent (to preview the site).")
def archive(out_dir: Path, include_unsent: bool) -> None:
    """Build the web archive: a page per sent issue, an index newest first, an Atom feed
    (feed.xml) and a sitemap, ready to upload to NEWSLETTER_ARCHIVE_URL.

    \b
    Example:
        newsletter archive --out archive/
    """
    config = settings()
    report = build_archive(Path(), config, sent_issues(config.journal_path), out_dir, include_unsent=include_unsent)
    console = out_console()
    for slug in report.missing:
        console.print(f"[yellow]warning[/]: {slug} was sent but issues/{slug}.yaml is gone: left out", highlight=False)
    console.print(f"Archive of {len(report.issues)} issue(s) in {out_dir}: "
                  f"{len(report.written)} file(s) written, {len(report.unchanged)} unchanged.", highlight=False)
    if not report.issues and not include_unsent:
        console.print("No issue has been sent yet; --include-unsent previews the site with every issue.")
    console.print(f"Feed: {config.archive_url.rstrip('/')}/{FEED}", highlight=False)


def register(group: click.Group) -> None:
    group.add_command(archive)
