"""`newsletter init DIR`: start a new office's project (publish/newproject.py does the work)."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from newsletter.cli.console import out_console
from newsletter.publish.newproject import init_project


@click.command()
@click.argument("target", metavar="DIR", type=click.Path(path_type=Path))
def init(target: Path) -> None:
    """Start a new project in DIR: the example's issues, articles and templates to begin from,
    a .env with a fresh UNSUBSCRIBE_SECRET, and a .gitignore that keeps the database, exports
    and subscriber files out of version control. Refuses a folder that already holds a project
    or a .env.

    \b
    Example:
        newsletter init ~/stockport-newsletter
    """
    made = init_project(target)
    console = out_console()
    console.print(f"Started a newsletter project in {made.root}: {', '.join(made.written)}", markup=False)
    if made.gitignore_extended:
        console.print("Added the newsletter's lines to the existing .gitignore.", markup=False)
    where = shlex.quote(str(made.root))
    console.print(
        f"Next: edit {where}/.env (NEWSLETTER_FROM, NEWSLETTER_POSTAL_ADDRESS, the URLs, SMTP_HOST), then "
        f"`newsletter --project {where} send spring-2018 --dry-run`",
        markup=False,
        soft_wrap=True,
    )


def register(group: click.Group) -> None:
    group.add_command(init)
