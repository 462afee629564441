"""`newsletter preview`: serve the live preview of an issue on 127.0.0.1."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click

from newsletter.cli.common import issue_argument, subscribers_path
from newsletter.cli.common import issue_path as issue_path_of
from newsletter.cli.common import project as find_home
from newsletter.cli.console import err_console, out_console
from newsletter.content.issue import Project
from newsletter.errors import InputError
from newsletter.gates.address import check_address
from newsletter.preview import PreviewServer
from newsletter.preview.readers import Readers
from newsletter.preview.server import describe


def _address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_address(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from exc


@click.command()
@issue_argument
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8025,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option("--no-browser", is_flag=True, help="Print the URL but do not open a browser.")
@click.option(
    "--subscriber",
    "subscriber",
    callback=_address,
    default=None,
    metavar="EMAIL",
    help="Show the message as this subscriber gets it (default: a generic reader).",
)
@click.option(
    "--subscribers",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Subscriber CSV for the picker (default: $NEWSLETTER_SUBSCRIBERS, subscribers.csv, or the example list).",
)
def preview(issue: str, port: int, no_browser: bool, subscriber: str | None, csv_path: Path | None) -> None:
    """Preview ISSUE in the browser, live: every save of an article, the issue, a template or
    .env shows within a second. The page shows the real message (HTML at desktop and phone
    width, plain text, headers, size) and the findings of `check`. Nothing is sent. At /report
    on the same address, staff see how every issue did (`newsletter report` as a page).

    \b
    Example:
        newsletter preview spring-2018 --subscriber margaret.hughes@example.org
    """
    home = find_home(issue)
    issue_path = issue_path_of(issue, home)  # the one lookup (and "did you mean") of every command
    project = Project.of_issue(issue_path)
    path, note = subscribers_path(csv_path, home)
    if csv_path is not None and not csv_path.is_file():
        raise InputError(f"{csv_path}: subscriber list not found")
    # The list of record, as `send` reads it; the CSV while it is empty, or when given. Without
    # any list (not even the example one) the picker offers the generic reader only.
    readers = Readers(
        path if path.is_file() or not note else None, subscriber, None if csv_path else home.database_path
    )
    if note and path.is_file() and readers.path is not None and not readers.reads_list:
        err_console().print(f"note: {note}", highlight=False)
    issues_dir = issue_path.resolve().parent
    # An issue outside issues/ is watched as one file: never the whole project root recursively.
    trees = [project.articles_dir, project.templates_dir] + ([issues_dir] if issues_dir.name == "issues" else [])
    trees += [project.root / "images"] if (project.root / "images").is_dir() else []  # pictures, live too
    with PreviewServer(
        issue_path,
        readers=readers,
        env_path=home.dotenv_path,
        watch_trees=trees,
        port=port,
        log=lambda line: err_console().print(line, highlight=False, markup=False),
        database=home.database_path,
    ) as server:
        console = out_console()
        console.print(f"Previewing {issue_path.stem} at {server.url}  (Ctrl-C to stop; nothing is sent)")
        console.print(f"How the issues did: {server.url}report", highlight=False)
        console.file.flush()
        err_console().print(describe(server.snapshot), highlight=False, markup=False)
        if not no_browser:
            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("Preview stopped.")


def register(group: click.Group) -> None:
    group.add_command(preview)
