"""How a send looks on screen: a progress bar on a terminal, a log line every few seconds
otherwise (cron, CI, a pipe), and the closing summary table. Rich honours NO_COLOR."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bar
from rich.table import Table

from newsletter.cli.console import err_console, out_console
from newsletter.sendloop import Progress, SendReport

LOG_EVERY = 5.0


@contextmanager
def progress_display(total: int) -> Iterator[Progress]:
    """Yields the callback the send loop calls with its report a few times a second."""
    console = err_console()
    if console.is_terminal:
        columns = (TextColumn("sending"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[failed]} failed · {task.fields[rate]:,.0f}/s"), TimeRemainingColumn())
        with Bar(*columns, console=console, transient=True) as bar:
            task = bar.add_task("send", total=total, failed=0, rate=0.0)

            def update(report: SendReport) -> None:
                bar.update(task, completed=report.done, failed=report.failed, rate=report.rate)

            yield update
        return
    last = [time.monotonic()]

    def log(report: SendReport) -> None:
        now = time.monotonic()
        if now - last[0] >= LOG_EVERY:
            last[0] = now
            console.print(f"{report.issue}: {report.done:,}/{total:,} done, {report.sent:,} sent, "
                          f"{report.failed:,} failed, {report.rate:,.0f}/s", highlight=False)

    yield log


def print_summary(report: SendReport, console: Console | None = None, *, again: str | None = None) -> None:
    """The closing summary: one line with the outcome, then a table of what else happened
    (nothing in both), then what is left and the exact command that continues the send."""
    console = console or out_console()
    kind = "Test send" if report.test else "Dry run" if report.dry_run else "Send"
    if report.dry_run:
        headline = f"{report.sent:,} would be sent (every message built and checked; nothing written or sent)"
    elif not report.total:
        headline = "nobody left to send to"
    else:
        headline = f"{report.sent:,} of {report.total:,} sent in {report.elapsed:,.2f} s ({report.rate:,.0f}/s)"
    console.print(f"{kind} of {report.issue} to {report.destination}: {headline}; {report.state()}",
                  highlight=False, soft_wrap=True)
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(justify="right")
    table.add_column()
    rows = [(report.failed, "failed"),
            (report.new_unknown, "unknown: in flight when the send stopped (they may have it)"),
            (len(report.unknown) - report.new_unknown, "unknown from an earlier send (not sent again)"),
            (report.pending, "pending: not sent yet"),
            *((n, f"skipped: {reason}") for reason, n in sorted(report.skipped.items())),
            (report.retried, "attempts retried after a temporary failure")]
    for count, what in rows:
        if count:
            table.add_row(f"{count:,}", what)
    if table.row_count:
        console.print(table)
    for email, reply in report.failures[:20]:
        console.print(f"  failed {email}: {reply}", highlight=False)
    if len(report.failures) > 20:
        console.print(f"  ... see `newsletter status {report.issue}` for all {report.failed:,} failures")
    for email in report.unknown[:20]:
        console.print(f"  unknown {email}", highlight=False)
    if again and report.pending:
        console.print(f"{report.pending:,} still to send: run `{again}` to continue.", highlight=False, soft_wrap=True)
    if again and report.unknown:
        console.print(f"{len(report.unknown):,} unknown: check with the relay's log; `{again} --resend-unknown` "
                      "sends to them as well (they may get it twice).", highlight=False, soft_wrap=True)
