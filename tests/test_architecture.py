"""The layout holds: imports point one way, no cycles, the map in ARCHITECTURE.md names real things.

Read from the source with `ast` (nothing is imported), so a new upward import, a cycle, a file
grown past a sitting, or a path in ARCHITECTURE.md that no longer exists fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "newsletter"

# Top to bottom: a module may import from its own layer's part or any part below it, never above.
# Parts on one line are independent of each other (neither imports the other).
LAYERS: list[tuple[str, ...]] = [
    ("__main__",),
    ("cli",),
    ("preview", "web"),
    ("reports",),
    ("sending",),
    ("publish", "checks", "delivery"),
    ("mail",),
    ("audience",),
    ("content",),
    ("audit",),
    ("store",),
    ("project",),
    ("settings",),
    ("gates", "yamlfile", "fileio"),
    ("errors", "__init__"),
]
CORE = {"__init__", "__main__", "errors", "fileio", "yamlfile", "settings", "project"}
MAX_LINES = 400


def _part(module: str) -> str:
    """`newsletter.sending.loop` -> `sending`; `newsletter` -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(part: str) -> int:
    for index, names in enumerate(LAYERS):
        if part in names:
            return index
    raise AssertionError(f"src/newsletter/{part}: not placed in LAYERS of tests/test_architecture.py")


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every `newsletter` module this file imports, at any depth (function-level imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    this = _module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "newsletter")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "newsletter":
                continue
            # `from newsletter.x import y` may name a module y: count it when it is one.
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
    found.discard(this)
    return found


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        here = _part(module)
        for target in sorted(targets):
            there = _part(target)
            if there == here:
                continue
            if _layer(there) < _layer(here):
                wrong.append(f"{module} imports {target}, which is above it")
            elif _layer(there) == _layer(here):
                wrong.append(f"{module} imports {target}: {here} and {there} are meant to be independent")
    return wrong


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle of modules, found by depth-first search (each reported once, from its smallest name)."""
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target == path[0]:
                key = tuple(sorted(path))
                if key not in seen and path[0] == min(path):
                    seen.add(key)
                    found.append([*path, target])
            elif target not in path and target > path[0]:
                visit(target, [*path, target])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_every_import_points_down_the_layers() -> None:
    assert upward_imports(_graph()) == []


def test_no_module_imports_itself_round_a_cycle() -> None:
    assert cycles(_graph()) == []


def test_the_checks_can_fail() -> None:
    """The two checks above find what they exist to find (so an empty answer means something)."""
    graph = {
        "newsletter.store.journal": {"newsletter.sending.loop"},
        "newsletter.web.app": {"newsletter.preview.server"},
        "newsletter.a.x": {"newsletter.a.y"},
        "newsletter.a.y": {"newsletter.a.x"},
    }
    wrong = upward_imports({k: v for k, v in graph.items() if "newsletter.a." not in k})
    assert wrong == [
        "newsletter.store.journal imports newsletter.sending.loop, which is above it",
        "newsletter.web.app imports newsletter.preview.server: web and preview are meant to be independent",
    ]
    assert cycles(graph) == [["newsletter.a.x", "newsletter.a.y", "newsletter.a.x"]]


def test_only_the_small_core_sits_at_the_top() -> None:
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top <= CORE, f"modules outside a package: {sorted(top - CORE)}"


def test_every_package_says_what_it_owns_and_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert len(doc.split()) >= 15, f"{init.relative_to(ROOT)}: no docstring saying what the package owns"
        if init.parent.name not in {"gates"}:
            assert "import" in doc, f"{init.relative_to(ROOT)}: the docstring does not say what it may import"


def test_no_file_is_longer_than_a_sitting() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_only_the_cli_talks_to_the_terminal() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if _part(_module_name(path)) in {"cli", "__main__"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] in {"click", "rich"} for n in names), f"{path}: imports {names}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "print", f"{path}:{node.lineno}: print() outside the CLI"


# ARCHITECTURE.md: every `path` and `module.symbol` it names must exist.
MAP = ROOT / "ARCHITECTURE.md"
CODE = re.compile(r"`([^`\s]+)`")


def _named_paths(text: str) -> list[str]:
    """The spans in backticks that look like a path in the repository (a slash or a .py/.md name)."""
    return [
        span
        for span in CODE.findall(text)
        if ("/" in span or re.search(r"\.(py|md|toml|j2|html|yaml)$", span)) and "://" not in span
    ]


def _named_symbols(text: str) -> list[str]:
    """The spans that name `package.module.Symbol` or `module.function` inside src/newsletter."""
    return [
        span
        for span in CODE.findall(text)
        if re.fullmatch(r"[a-z_]+(\.[A-Za-z_]+)+", span) and span not in _named_paths(span.join("``"))
    ]


def _path_exists(span: str) -> bool:
    candidate = span.rstrip("/")
    if "*" in candidate:
        return any(any(base.glob(candidate)) for base in (ROOT, PACKAGE))
    return any((base / candidate).exists() for base in (ROOT, PACKAGE, ROOT / "src"))


def _symbol_exists(span: str) -> bool:
    parts = span.split(".")
    # Longest prefix that is a module under src/newsletter; the rest are attributes defined in it.
    for cut in range(len(parts), 0, -1):
        module = PACKAGE.joinpath(*parts[:cut])
        source = module.with_suffix(".py") if module.with_suffix(".py").is_file() else module / "__init__.py"
        if source.is_file():
            rest = parts[cut:]
            if not rest:
                return True
            text = source.read_text(encoding="utf-8")
            return all(re.search(rf"^\s*(def|class|async def)\s+{name}\b|^{name}\s*[:=]", text, re.M) for name in rest)
    return False


def test_architecture_md_names_only_what_exists() -> None:
    text = MAP.read_text(encoding="utf-8")
    missing = [p for p in _named_paths(text) if not _path_exists(p)]
    missing += [s for s in _named_symbols(text) if not _symbol_exists(s)]
    assert missing == []
    assert len(_named_paths(text)) >= 20 and len(_named_symbols(text)) >= 10  # the map names things


@pytest.mark.parametrize("span", ["store/nothing_here.py", "sending/loop.py"])
def test_the_map_check_can_fail(span: str) -> None:
    assert _path_exists(span) == (span == "sending/loop.py")
    assert _symbol_exists("sending.loop.SendLoop") and not _symbol_exists("sending.loop.NoSuchThing")
