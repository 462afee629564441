"""A finding before sending: what `newsletter check` prints and the preview lists."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    code: str
    message: str
