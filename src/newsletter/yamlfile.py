"""Safe YAML loading that keeps line numbers, so every complaint can name file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newsletter.errors import InputError


@dataclass(frozen=True)
class Located:
    """A YAML mapping plus the line (1-based, in the file) of each of its keys."""

    data: dict[str, Any]
    lines: dict[str, int]
    path: Path
    first_line: int

    def line(self, key: str) -> int:
        return self.lines.get(key, self.first_line)

    def at(self, key: str) -> str:
        return f"{self.path}:{self.line(key)}"


def load_mapping(text: str, path: Path, *, line_offset: int = 0) -> Located:
    """Parse `text` as a YAML mapping; `line_offset` is added to reported lines (front matter)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{path}:{line}: invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        kind = "nothing" if data is None else type(data).__name__
        raise InputError(f"{path}:{line_offset + 1}: expected a mapping of fields, found {kind}")
    lines: dict[str, int] = {}
    for key_node, _value in node.value:
        lines[str(key_node.value)] = key_node.start_mark.line + 1 + line_offset
    return Located({str(k): v for k, v in data.items()}, lines, path, line_offset + 1)


def item_lines(text: str, key: str, *, line_offset: int = 0) -> list[int]:
    """Lines of the items of the sequence under `key` (for errors about one list entry)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(node, yaml.MappingNode):
        return []
    for key_node, value in node.value:
        if key_node.value == key and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 + line_offset for item in value.value]
    return []
