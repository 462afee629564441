"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no script.

Self-contained so that the file `newsletter report --html` writes can be mailed to the Member or
kept with the office's records and still open years later, with nothing fetched from anywhere;
the preview server shows the same page to staff on their own machine. Every chart has a title
and a description for a screen reader, and its figures are in a table beside it. Every value
that came from a file or a stranger (an issue's slug, an edition's name) is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from newsletter.reports.figures import ISSUE_COLUMNS, ROUTE_LABELS, SEND_COLUMNS, EditionFigures, IssueFigures, SendRow
from newsletter.sending.status import ROUTE_NAMES

Link = Callable[[str], str | None]  # an issue's slug -> the address of its report page, if any

STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;
margin:0 auto;max-width:80rem;padding:1rem 1.25rem 3rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin:2rem 0 .5rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid #767676;padding:.3rem .45rem;text-align:right}thead th{font-size:.9rem}
th:first-child,td:first-child{text-align:left}thead th{vertical-align:bottom}
tfoot td,tfoot th{font-weight:700}tbody th,tfoot th{white-space:nowrap}
.note{color:#3d3d3d}a{color:#0b4f9c}
figure{margin:1rem 0}figcaption{color:#3d3d3d}svg{max-width:100%;height:auto}
svg text{font:13px system-ui,sans-serif;fill:#1a1a1a}
.bar{fill:#0b4f9c}.bar2{fill:#8a3b00}
.wrap{overflow-x:auto}.wrap:focus{outline:2px solid #0b4f9c}
"""
HEADINGS = {
    "edition": "Edition",
    "recipients": "Recipients",
    "delivered": "Delivered",
    "deferred": "Deferred",
    "hard_bounces": "Hard bounces",
    "soft_bounces": "Soft bounces",
    "complaints": "Complaints",
    "unsubscribed_7_days": "Unsubscribed within 7 days",
    "unsubscribed_30_days": "Unsubscribed within 30 days",
    "unknown": "Unknown",
    "date": "Date (UTC)",
    "issue": "Issue",
    "route": "Route",
    "audience": "Audience",
    "failed": "Failed",
    "status": "Status",
}


def _page(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
        "</body>\n</html>\n"
    ).encode()


def _table(caption: str, columns: Sequence[str], rows: Sequence[Sequence[str]], foot: Sequence[str] = ()) -> str:
    """A table whose first cell heads its row; `rows` and `foot` are HTML already escaped."""
    head = "".join(f'<th scope="col">{escape(HEADINGS.get(c, c))}</th>' for c in columns)

    def line(cells: Sequence[str]) -> str:
        return f'<tr><th scope="row">{cells[0]}</th>' + "".join(f"<td>{c}</td>" for c in cells[1:]) + "</tr>"

    footer = f"<tfoot>{line(foot)}</tfoot>" if foot else ""
    label = escape(caption)
    return (
        f'<div class="wrap" tabindex="0" role="region" aria-label="{label}"><table><caption>{label}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(line(r) for r in rows)}</tbody>{footer}</table></div>\n"
    )


def sends_page(rows: list[SendRow], link: Link = lambda _slug: None) -> bytes:
    """Every send, newest last, each issue linked to its own report where `link` gives one."""
    table = []
    for row in rows:
        values = row.row()
        values["route"] = ROUTE_LABELS.get(row.route, row.route)
        cells = [escape(values[c]) for c in SEND_COLUMNS]
        href = link(row.issue)
        if href:
            cells[1] = f'<a href="{escape(href)}">{cells[1]}</a>'
        table.append(cells)
    body = "<h1>Every send of the newsletter</h1>\n"
    body += (
        '<p class="note">From the delivery journal. A send into the outbox folder is a rehearsal: no '
        "constituent got it. Delivered means the relay accepted the message. There is no open or click "
        "tracking.</p>\n"
    )
    if rows:
        body += _table("Sends, oldest first", SEND_COLUMNS, table)
    else:
        body += "<p>No send is recorded yet.</p>\n"
    return _page("Every send of the newsletter", body)


def issue_page(figures: IssueFigures, back: str | None = None) -> bytes:
    """One issue's figures per edition, two bar charts and the unsubscribes per day."""
    title = f"How {figures.slug} did"
    body = (f'<p><a href="{escape(back)}">Every send</a></p>\n' if back else "") + f"<h1>{escape(title)}</h1>\n"
    body += f"<p>Sent {escape(ROUTE_NAMES.get(figures.route, figures.route))}, from {escape(figures.sent_at)} UTC."
    body += f" {_growth(figures)}</p>\n"
    body += (
        '<p class="note">Delivered: accepted by the relay. Deferred: refused for now (4xx) and not delivered. '
        "Hard bounces: refused for good while sending (5xx) or a delivery failure report later; soft bounces: "
        "a report of a temporary failure. Complaints: marked as spam at a mail provider that reports it. "
        f"Unsubscribes: people this issue reached who left within {7} or {30} days of the send. "
        "There is no open or click tracking.</p>\n"
    )
    body += "<h2>Figures per ward edition</h2>\n"
    body += _table(
        f"{figures.slug} per edition",
        ISSUE_COLUMNS,
        [_row(f) for f in figures.editions],
        foot=_row(figures.total),
    )
    body += "<h2>Delivered per edition</h2>\n" + _bars(
        "delivered",
        "Delivered per edition",
        [(f.edition, f.delivered) for f in figures.editions],
        "bar",
    )
    body += "<h2>Unsubscribes within 30 days per edition</h2>\n" + _bars(
        "unsubscribed",
        "Unsubscribed within 30 days, per edition",
        [(f.edition, f.unsubscribed_30_days) for f in figures.editions],
        "bar2",
    )
    body += "<h2>Unsubscribes over time</h2>\n" + _days(figures.unsubscribes_by_day)
    return _page(title, body)


def _row(figures: EditionFigures) -> list[str]:
    values = figures.row()
    return [escape(values[c]) for c in ISSUE_COLUMNS]


def _growth(figures: IssueFigures) -> str:
    now = f"{figures.subscribers:,} confirmed subscribers as it started"
    if figures.previous is None or figures.growth is None:
        return f"The list had {now}; no earlier issue was sent."
    issue, _at, before = figures.previous
    change = f"{figures.growth:+,}"
    return f"The list had {now}: {change} since {escape(issue)} ({before:,})."


def _bars(name: str, title: str, values: list[tuple[str, int]], css: str) -> str:
    """Horizontal bars, one per edition, each labelled with its name and its count."""
    top = max([v for _label, v in values] + [1])
    row, label_width, width = 28, 260, 620
    height = row * len(values) + 10
    parts = [
        f'<svg role="img" aria-labelledby="{name}-t {name}-d" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{name}-t">{escape(title)}</title>',
        f'<desc id="{name}-d">'
        + escape("; ".join(f"{label}: {v}" for label, v in values))
        + " (the same figures are in the table above)</desc>",
    ]
    for n, (label, value) in enumerate(values):
        y = 5 + n * row
        bar = round((width - label_width - 60) * value / top)
        parts.append(f'<text x="0" y="{y + 18}">{escape(_short(label))}</text>')
        parts.append(f'<rect class="{css}" x="{label_width}" y="{y + 4}" width="{bar}" height="{row - 10}"/>')
        parts.append(f'<text x="{label_width + bar + 6}" y="{y + 18}">{value:,}</text>')
    parts.append("</svg>")
    caption = f"{title}: the same figures as in the table above"
    return f"<figure>{''.join(parts)}<figcaption>{escape(caption)}</figcaption></figure>\n"


def _short(label: str) -> str:
    return label if len(label) <= 34 else label[:33] + "\u2026"


def _days(by_day: list[int]) -> str:
    """Unsubscribes on each of the 30 days from the send, as columns, with the table beside."""
    top = max([*by_day, 1])
    width, height, left, base = 640, 180, 30, 150
    step = (width - left - 40) / len(by_day)  # room on the right for the last day's label
    total = sum(by_day)
    busiest = max(range(len(by_day)), key=lambda d: by_day[d]) if total else None
    summary = f"{total} unsubscribes in the 30 days from the send" + (
        f"; the most on day {busiest} ({by_day[busiest]})" if busiest is not None else ""
    )
    parts = [
        f'<svg role="img" aria-labelledby="days-t days-d" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        '<title id="days-t">Unsubscribes per day after the send</title>',
        f'<desc id="days-d">{escape(summary)} (each day is in the table below)</desc>',
        f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" stroke="#1a1a1a"/>',
        f'<text x="0" y="{base - 120}">{top}</text><text x="0" y="{base}">0</text>',
    ]
    for day, count in enumerate(by_day):
        x = left + day * step
        bar = round(120 * count / top)
        parts.append(f'<rect class="bar" x="{x + 2:.1f}" y="{base - bar}" width="{step - 4:.1f}" height="{bar}"/>')
        if day % 7 == 0:
            parts.append(f'<text x="{x + 2:.1f}" y="{base + 18}">day {day}</text>')
    parts.append("</svg>")
    rows = "".join(f'<tr><th scope="row">{day}</th><td>{count}</td></tr>' for day, count in enumerate(by_day))
    table = (
        "<details><summary>Unsubscribes on each day</summary><table><caption>Unsubscribes per day "
        '(day 0: the first 24 hours from the send)</caption><thead><tr><th scope="col">Day</th><th scope="col">'
        f"Unsubscribes</th></tr></thead><tbody>{rows}</tbody></table></details>\n"
    )
    caption = f"<figcaption>{escape(summary)}</figcaption>"
    return f"<figure>{''.join(parts)}{caption}</figure>\n{table}"
