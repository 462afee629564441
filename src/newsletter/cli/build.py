"""`newsletter build` and `newsletter check`."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.checks.images import PublishCheck
from newsletter.checks.links import CONCURRENCY, TIMEOUT
from newsletter.checks.preflight import LinkCheck, has_errors, html_size, missing_article_findings, run_checks
from newsletter.cli.common import composed_issue, issue_argument, project
from newsletter.cli.console import out_console, styled
from newsletter.content.issue import MissingArticles
from newsletter.publish.build import build_issue


@click.command()
@issue_argument
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the built files (default: build/ in the project).",
)
def build(issue: str, out_dir: Path | None) -> None:
    """Build ISSUE: the web copy (<slug>.html, <slug>.txt) and one sample message (<slug>.eml).

    The HTML file opens directly in a browser; it is the copy the "view in your browser"
    link points to, so it carries no reader's name or unsubscribe token. Each ward edition
    gets its own copy, <slug>.<edition>.html and .txt.

    \b
    Example:
        newsletter build spring-2018 --out build/
    """
    home = project(issue)
    composed = composed_issue(issue, home)
    built = build_issue(composed, out_dir if out_dir is not None else home.root / "build")
    out_console().print(f"Built {built.slug} ({html_size(composed) / 1024:.1f} KB of HTML):")
    for path in built.files:
        out_console().print(f"  {path}")


@click.command()
@issue_argument
@click.option("--links", is_flag=True, help="Also fetch every link and image (HEAD, then GET) and report what answers.")
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=CONCURRENCY, show_default=True,
    help="With --links: requests in flight at once.",
)  # fmt: skip
@click.option(
    "--timeout", type=click.FloatRange(0.1, 120), default=TIMEOUT, show_default=True,
    help="With --links: seconds to wait for a server to connect or answer.",
)  # fmt: skip
def check(issue: str, links: bool, concurrency: int, timeout: float) -> None:
    """Check ISSUE before sending: size (Gmail clips at 102 KB), links, unsubscribe link,
    subject and preheader, unknown articles; accessibility (alt text, link text, headings,
    lang, contrast, text size), dark mode and image sizes; the project's pictures: published at
    NEWSLETTER_ARCHIVE_URL (each asked with HEAD), their weight together
    (NEWSLETTER_IMAGE_BUDGET_KB), sharpness and alt text. With --links, every link and image
    is fetched: 4xx/5xx, timeouts, redirects to another host, images over 200 KB.
    Exits 1 when there are errors.

    \b
    Example:
        newsletter check issues/spring-2018.yaml --links
    """
    try:
        findings = run_checks(composed_issue(issue), LinkCheck(concurrency, timeout) if links else None, PublishCheck())
    except MissingArticles as exc:
        findings = missing_article_findings(exc)
    console = out_console()
    for finding in findings:
        style = "bold red" if finding.level == "error" else "yellow"
        console.print(styled((finding.level, style), f": {finding.message}"), highlight=False)
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    console.print(f"{errors} error(s), {warnings} warning(s)" if findings else "No problems found.")
    if has_errors(findings):
        raise click.exceptions.Exit(1)


def register(group: click.Group) -> None:
    group.add_command(build)
    group.add_command(check)
