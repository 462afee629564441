"""Who of the audience an issue goes to: the issue's segment, `--ward`/`--tag`, suppressions.

Every address left out is kept in the audience's report with its reason, so the dry run and
the confirmation prompt can say why others are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from newsletter.audience import Audience
from newsletter.issue import Issue


def target(
    audience: Audience,
    issue: Issue,
    *,
    wards: Sequence[str] = (),
    tags: Sequence[str] = (),
    journal_path: Path | None = None,
) -> Audience:
    """Narrow `audience` to this issue's recipients (segments and suppressions: issue 5)."""
    del issue, wards, tags, journal_path
    return audience
