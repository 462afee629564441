"""`newsletter archive`, `newsletter import` and `newsletter new-issue`: publishing to the web and
taking articles in from the office website's feed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import click

from newsletter.cli.common import project
from newsletter.cli.console import out_console, styled
from newsletter.publish.archive import build_archive
from newsletter.publish.fetch import TIMEOUT
from newsletter.publish.newissue import new_issue
from newsletter.publish.sent import sent_issues, snapshots
from newsletter.publish.site import FEED


def shown(path: Path, root: Path) -> str:
    """A path as staff read it: relative to the project when it is inside it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the site, rebuilt in place (default: archive/ in the project).",
)
@click.option(
    "--include-unsent",
    is_flag=True,
    help="Also publish issues the journal does not record as sent (to preview the site).",
)
def archive(out_dir: Path | None, include_unsent: bool) -> None:
    """Build the web archive: a page per sent issue, an index newest first, an Atom feed
    (feed.xml) and a sitemap, ready to upload to NEWSLETTER_ARCHIVE_URL.

    \b
    Example:
        newsletter archive --out archive/
    """
    home = project()
    config = home.settings()
    out_dir = out_dir if out_dir is not None else home.root / "archive"
    report = build_archive(
        home.root,
        config,
        sent_issues(home.database_path),
        out_dir,
        include_unsent=include_unsent,
        snapshots=snapshots(home.database_path),
    )
    console = out_console()
    for slug in report.missing:
        console.print(styled(("warning:", "yellow"), f" {slug} was sent but issues/{slug}.yaml is gone: left out"))
    if report.rerendered:
        console.print(
            f"note: no copy of what was sent is kept for {', '.join(report.rerendered)} (sent before this "
            "release): rebuilt from today's files",
            highlight=False,
        )
    for name in report.lost_images:
        message = f" picture {name} is shown by a page but is gone from .newsletter-images/: not published"
        console.print(styled(("warning:", "yellow"), message), highlight=False)
    for path in report.removed:
        console.print(f"removed {shown(path, home.root)}: no longer published", highlight=False)
    console.print(
        f"Archive of {len(report.issues)} issue(s) in {shown(out_dir, home.root)}: "
        f"{len(report.written)} file(s) written, {len(report.unchanged)} unchanged.",
        highlight=False,
    )
    if not report.issues and not include_unsent:
        console.print("No issue has been sent yet; --include-unsent previews the site with every issue.")
    console.print(f"Feed: {config.archive_url.rstrip('/')}/{FEED}", highlight=False)


@click.command("import")
@click.argument("feed", metavar="FEED")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only items published on or after this date (YYYY-MM-DD).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many items, newest first.")
@click.option(
    "--update",
    is_flag=True,
    help="Refresh articles imported before, unless they were edited since (never a hand edit).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be written, and write nothing.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=TIMEOUT,
    show_default=True,
    help="Seconds to wait for the feed's server.",
)
def import_command(
    feed: str, since: dt.datetime | None, limit: int | None, update: bool, dry_run: bool, timeout: float
) -> None:
    """Import the items of an RSS or Atom feed (a URL or a file) as articles/<slug>.md.

    An item already imported (same link) is skipped; with --update it is refreshed only if
    its file was not edited since. Items that cannot become articles are reported and skipped.

    \b
    Example:
        newsletter import https://www.example.org/feed/ --since 2018-01-01
    """
    # Imported here: feedparser, BeautifulSoup and markdownify would add about 0.4 s to the
    # start-up of every other command.
    from newsletter.publish.feedimport import (
        EXISTS,
        KEPT,
        NEW,
        SKIPPED,
        UNCHANGED,
        UPDATED,
        ImportOptions,
        import_feed,
        parse_categories,
    )

    home = project()
    table = parse_categories(home.env.get("NEWSLETTER_IMPORT_CATEGORIES", ""))
    options = ImportOptions(
        since=since.date() if since else None, limit=limit, update=update, dry_run=dry_run, categories=table
    )
    parsed, outcomes = import_feed(feed, home.root / "articles", options, timeout=timeout)
    console = out_console()
    for outcome in outcomes:
        label = "would write" if dry_run and outcome.action in (NEW, UPDATED) else outcome.action
        where = shown(outcome.path, home.root) if outcome.path else f"item {outcome.number}"
        title = f" {outcome.title!r}" if outcome.title else ""
        detail = f": {outcome.detail}" if outcome.detail else ""
        console.print(f"{label:<11} {where}{title}{detail}", highlight=False, markup=False, soft_wrap=True)
    counts = Counter(o.action for o in outcomes)
    summary = ", ".join(f"{counts[a]} {a}" for a in (NEW, UPDATED, UNCHANGED, EXISTS, KEPT, SKIPPED) if counts[a])
    items = len(parsed.items) + len(parsed.broken)
    console.print(
        f"{parsed.title or feed}: {items} item(s); {summary or 'nothing to do'}.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if dry_run:
        console.print("Dry run: nothing was written.")


@click.command("new-issue")
@click.argument("slug", metavar="SLUG")
@click.option(
    "--articles", "articles", required=True, help="Article slugs, comma-separated, in order; the first is featured."
)
@click.option(
    "--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="The issue's date (default: today)."
)
def new_issue_command(slug: str, articles: str, date: dt.datetime | None) -> None:
    """Write a starter issues/SLUG.yaml from chosen articles (never over an existing issue).

    The first article is featured; the subject and preheader come from it. Edit the intro,
    then preview and send.

    \b
    Example:
        newsletter new-issue summer-2019 --articles standing-down,final-stockport-express-interview
    """
    day = date.date() if date else dt.date.today()
    home = project()
    path = new_issue(home.root, slug, articles.split(","), date=day)
    out_console().print(
        f"Wrote {shown(path, home.root)}. Next: edit its intro, then `newsletter preview {slug}`.",
        highlight=False,
        markup=False,
    )


def register(group: click.Group) -> None:
    group.add_command(archive)
    group.add_command(import_command)
    group.add_command(new_issue_command)
