"""`newsletter log --export FILE`: the log as CSV or JSON for a records request.

Every stored field is written as stored (the CSV's `details` is the canonical JSON text, the
JSON's is the object), so anyone can recompute each entry's hash from the export alone. CSV
cells pass the spreadsheet gate (`gates/cells.py`: a staff name like `=cmd|...` is text, not a
formula). The file is written beside its name and linked into place only if nothing is there:
an export never overwrites, and never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from newsletter.audit.log import FIELDS
from newsletter.errors import DeliveryError, InputError
from newsletter.gates.cells import csv_bytes

__all__ = ["FORMATS", "check_target", "write"]

FORMATS = (".csv", ".json")


def check_target(path: Path) -> str:
    """The export's format from its extension; refused (one line) if unknown or the file exists."""
    kind = path.suffix.lower()
    if kind not in FORMATS:
        raise InputError(f"--export {path}: name a .csv or .json file (the format follows the extension)")
    if path.exists() or path.is_symlink():
        raise InputError(f"--export {path}: the file exists; an export never overwrites, give a new name")
    if not path.parent.is_dir():
        raise InputError(f"--export {path}: no such folder {path.parent}")
    return kind


def _bytes(kind: str, rows: list[dict[str, Any]]) -> bytes:
    if kind == ".csv":
        return csv_bytes(FIELDS, ([row[name] for name in FIELDS] for row in rows))
    shown = [{**row, "details": json.loads(row["details"])} for row in rows]
    return (json.dumps(shown, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write(path: Path, rows: list[dict[str, Any]]) -> int:
    """Write the rows (stored fields, as `log.rows` gives them) to `path`; how many."""
    data = _bytes(check_target(path), rows)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # fails if the name was taken meanwhile: never over another file
    except FileExistsError:
        raise InputError(f"--export {path}: the file exists; an export never overwrites, give a new name") from None
    except OSError as exc:
        raise DeliveryError(f"--export {path}: cannot write: {exc.strerror}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return len(rows)
