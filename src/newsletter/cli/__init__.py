"""The command line: parse, call one function, print. Errors become one line and an exit code.

Exit codes: 0 done, 1 a failure while working (or `check` found errors), 2 bad input,
130/143 interrupted. Bad input never prints a traceback.

The only package that imports click or writes to the terminal; it may import every other
package, and none imports it. One module per command group. Read first: `send.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from newsletter import __version__
from newsletter.cli import common, vocabulary
from newsletter.cli.console import err_console, styled
from newsletter.errors import NewsletterError


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, invoke_without_command=True
)
@click.version_option(__version__, prog_name="newsletter")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The project folder (the one holding issues/; default: $NEWSLETTER_PROJECT, the issue's "
    "project, or the first folder up from here that holds issues/).",
)
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None) -> None:
    """Compose, preview and send an elected representative's email newsletter.

    \b
    Example:
        newsletter send spring-2018 --dry-run
    """
    ctx.obj = {"project": project_dir}
    if ctx.invoked_subcommand is None:  # bare `newsletter`: the help, and success
        click.echo(ctx.get_help())


def _register() -> None:
    from newsletter.cli import (
        approve,
        build,
        consent,
        db,
        dkim,
        init,
        log,
        preview,
        privacy,
        publish,
        report,
        send,
        serve,
        status,
        subscribers,
        worker,
    )

    del privacy  # its commands join the `subscribers` group on import

    for module in (
        init,
        build,
        approve,
        send,
        worker,
        subscribers,
        consent,
        serve,
        preview,
        status,
        log,
        report,
        publish,
        dkim,
        db,
    ):
        module.register(cli)
    vocabulary.apply(cli)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    succeeded = False
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="newsletter", standalone_mode=False)
        succeeded = True
    except NewsletterError as exc:
        for line in str(exc).splitlines() or [""]:  # a refusal listing several rows: one line each
            err_console().print(styled(("error:", "bold red"), f" {line}"), highlight=False, soft_wrap=True)
        if exc.hint:
            err_console().print(f"hint: {exc.hint}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        succeeded = True  # a command that did its work and chose its exit code (failures counted)
        return int(exc.exit_code)
    except click.Abort:
        err_console().print("aborted", highlight=False)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        err_console().print("interrupted", highlight=False)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    finally:
        for note in common.said_notes(succeeded):
            err_console().print(note, highlight=False, soft_wrap=True)
    return result if isinstance(result, int) else 0
