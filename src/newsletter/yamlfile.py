"""Safe YAML loading that keeps line numbers, so every complaint can name file and line.

The YAML gate (issue 12): an office's issue and article files have no use for aliases, so an
alias is refused before anything expands it ("billion laughs" took 1.3 GiB in an error
message); a file is at most `MAX_CHARS` long and nested at most `MAX_DEPTH` deep (PyYAML's
composer recurses); a date that cannot exist (year 0, 30 February) is one line naming the
file and line, not a ValueError from inside PyYAML. Tabs and bad indentation get a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor

from newsletter.errors import InputError

MAX_CHARS = 1_000_000
MAX_DEPTH = 40


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


class _Loader(yaml.SafeLoader):
    """SafeLoader without aliases, with a depth limit and dates checked where they stand."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise ComposerError(None, None, "aliases (*name) are not allowed: write the value out", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return SafeConstructor.construct_yaml_timestamp(self, node)
        except (ValueError, OverflowError) as exc:
            raise ConstructorError(
                None, None, f"{node.value!r} is not a date that exists ({exc})", node.start_mark
            ) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        try:
            return SafeConstructor.construct_yaml_int(self, node)
        except ValueError:  # Python refuses to convert more than 4,300 digits
            raise ConstructorError(
                None, None, f"a number of {len(node.value):,} digits is too long", node.start_mark
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _hint(problem: str) -> str:
    if "'\\t'" in problem:
        return "a tab character where YAML expects spaces (YAML indents with spaces, never tabs)"
    if "expected <block end>" in problem or "mapping values are not allowed here" in problem:
        return f"{problem} (check this line's indentation: YAML nests by spaces, and a ':' in a value needs quotes)"
    return problem


def _compose(text: str, path: Path, line_offset: int) -> tuple[yaml.Node | None, Any]:
    """(node, data) from one parse, or one line naming the file and line."""
    if len(text) > MAX_CHARS:
        raise InputError(f"{path}: {len(text):,} characters is more than the {MAX_CHARS:,} a newsletter file may have")
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader refuses NUL and other special characters here
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        problem = _hint(exc.problem or exc.context or "invalid YAML")
        raise InputError(f"{path}:{line}: invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1 + line_offset
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise InputError(
            f"{path}:{line}: invalid YAML: the control character U+{character:04X} is not allowed"
            " (remove it; it is invisible in most editors)"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {' '.join(str(exc).split())[:200]}") from None
    except RecursionError:
        raise InputError(f"{path}: invalid YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    return node, data


def load_mapping(text: str, path: Path, *, line_offset: int = 0) -> Located:
    """Parse `text` as a YAML mapping; `line_offset` is added to reported lines (front matter)."""
    node, data = _compose(text, path, line_offset)
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        kind = "nothing" if data is None else type(data).__name__
        raise InputError(f"{path}:{line_offset + 1}: expected a mapping of fields, found {kind}")
    lines: dict[str, int] = {}
    for key_node, _value in node.value:
        lines[str(key_node.value)] = key_node.start_mark.line + 1 + line_offset
    return Located({str(k): v for k, v in data.items()}, lines, path, line_offset + 1)


def item_lines(text: str, key: str, *, line_offset: int = 0) -> list[int]:
    """Lines of the items of the sequence under `key` (for errors about one list entry)."""
    node, _data = _compose(text, Path("-"), line_offset)
    if not isinstance(node, yaml.MappingNode):
        return []
    for key_node, value in node.value:
        if key_node.value == key and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 + line_offset for item in value.value]
    return []
