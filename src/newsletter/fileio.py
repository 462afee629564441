"""Atomic file writes: a crash never leaves a half-written file behind (DESIGN.md)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PUBLIC = 0o644  # files meant for a web server, which runs as another user and must read them


def write_atomic(path: Path, data: bytes, *, fsync: bool = False, mode: int | None = None) -> None:
    """Write to a temporary file in the same folder, then rename it over `path`.

    The temporary file is private (0600, from `mkstemp`); `mode` sets the final permissions
    before the rename, so the file never appears under its name with the wrong ones.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
