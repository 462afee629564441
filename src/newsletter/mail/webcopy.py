"""The web copy of a composed issue: what the archive shows and what a send keeps as its record.

One definition for both, so the snapshot a send keeps and the page a re-render gives are the
same bytes when nothing was edited in between.
"""

from __future__ import annotations

from newsletter.mail.compose import Composed
from newsletter.store.snapshots import Snapshot, SnapshotEdition


def web_copy(composed: Composed) -> Snapshot:
    """The issue with the public values (no reader's name, address or token), every edition."""
    values = composed.web_values()
    html, text = composed.rendered.personalise(values)
    editions = tuple(
        SnapshotEdition(e.edition.file_stem, e.edition.label, *e.rendered.personalise(values))
        for e in composed.editions[1:]
    )
    issue = composed.issue
    return Snapshot(
        issue.slug,
        composed.rendered.subject,
        issue.preheader,
        issue.date.isoformat(),
        issue.date_text,
        html,
        text,
        editions,
    )
