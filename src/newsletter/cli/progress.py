"""How a send looks on screen: a progress bar on a terminal, a log line every few seconds
otherwise (cron, CI, a pipe), and the closing summary table. Rich honours NO_COLOR."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

from newsletter.cli.console import err_console, out_console
from newsletter.sending.report import Progress, SendReport

LOG_EVERY = 5.0


@contextmanager
def progress_display(total: int) -> Iterator[Progress]:
    """Yields the callback the send loop calls with its report a few times a second."""
    console = err_console()
    if console.is_terminal:
        columns = (
            TextColumn("sending"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed · {task.fields[rate]:,.0f}/s"),
            TimeRemainingColumn(),
        )
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
            console.print(
                f"{report.issue}: {report.done:,}/{total:,} done, {report.sent:,} sent, "
                f"{report.failed:,} failed, {report.rate:,.0f}/s",
                highlight=False,
            )

    yield log


def print_summary(report: SendReport, console: Console | None = None, *, again: str | None = None) -> None:
    """The closing summary: one line with what was sent, failed, skipped and why, what is
    unknown or still pending, how fast and how the run ended (said once, not again in a
    table), then the failures by name, then the exact command that continues the send."""
    console = console or out_console()
    if report.dry_run:
        head = f"Dry run of {report.issue}: {report.sent:,} would be sent"
    else:
        kind = "Test copy of " if report.test else ""
        edition = f" (edition for {report.edition})" if report.edition else ""
        head = f"{kind}{report.issue}{edition}: {report.sent:,} sent to {report.destination}"
    ended = report.outcome()
    console.print(
        head
        + (f", {report.failed:,} failed" if report.failed else "")
        + "".join(f", {n:,} skipped ({reason})" for reason, n in sorted(report.skipped.items()))
        + (
            f", {len(report.unknown):,} unknown (in flight at a stop, or the reply lost; see --resend-unknown)"
            if report.unknown
            else ""
        )
        + (f", {report.pending:,} pending" if report.pending else "")
        + (f", {report.retried:,} retries after a temporary failure" if report.retried else "")
        + f" in {report.elapsed:,.2f} s"
        + (f" ({report.rate:,.0f} a second)" if report.sent and not report.dry_run else "")
        + ("; nothing was written or sent" if report.dry_run else "")
        + (f"; {ended}" if not report.dry_run and ended != "complete" else ""),
        highlight=False,
        soft_wrap=True,
    )
    for email, reply in report.failures[:20]:
        console.print(f"  failed {email}: {reply}", highlight=False)
    if len(report.failures) > 20:
        console.print(f"  ... see `newsletter status {report.issue}` for all {report.failed:,} failures")
    for email in report.unknown[:20]:
        console.print(f"  unknown {email}", highlight=False)
    if again and report.pending:
        console.print(f"{report.pending:,} still to send: run `{again}` to continue.", highlight=False, soft_wrap=True)
    elif report.interrupted is not None:
        console.print("Interrupted: run the same command again to send to the rest.")
    if again and report.unknown:
        console.print(
            f"{len(report.unknown):,} unknown: check the relay's log; `{again} --resend-unknown` "
            "sends to them as well (they may get it twice).",
            highlight=False,
            soft_wrap=True,
        )
