"""`newsletter worker`: join a send that is running and send a share of it, then leave.

Parse, call `sending.worker.run_worker`, print its summary.
"""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.common import project
from newsletter.cli.progress import print_summary, progress_display
from newsletter.cli.send import exit_code, journal_option, lease_option
from newsletter.sending.worker import WorkerOptions, run_worker


@click.command()
@click.argument("issue", metavar="ISSUE", required=False)
@journal_option
@lease_option
@click.option(
    "--wait",
    type=click.FloatRange(min=0, max=86400),
    default=0,
    metavar="SECONDS",
    help="Wait up to this long for a send to start (a worker standing by); default: leave at once if none runs.",
)
@click.option("--job", type=int, default=None, hidden=True, help="The run to join (the workers a send starts).")
@click.option("--quiet", is_flag=True, hidden=True, help="No progress and no summary (the workers a send starts).")
def worker(
    issue: str | None, journal_path: Path | None, lease: float, wait: float, job: int | None, quiet: bool
) -> int:
    """Join the send that is running (started with `newsletter send ISSUE --workers N`, on this
    host or another that uses the same database) and send a share of it; leave when it ends.
    Give ISSUE when several sends are running.

    \b
    Example:
        newsletter worker
    """
    home = project()
    options = WorkerOptions(issue=issue, job=job, database=journal_path, lease=lease, wait=wait)
    if quiet:
        return exit_code(run_worker(home, options))
    with progress_display(0) as show:
        report = run_worker(home, options, progress=show)
    print_summary(report)
    return exit_code(report)


def register(group: click.Group) -> None:
    group.add_command(worker)
