"""axe-core, the accessibility engine, run inside a real Chromium page.

axe-core comes from npm (`tests/mjml/package.json`, installed by `npm ci` in `.ci/run`); it is
injected into the page as a script, so it checks the page exactly as the browser rendered it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import REPO, require

AXE = REPO / "tests" / "mjml" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_available() -> bool:
    return AXE.is_file()


def axe_violations(page: Any, *, context: str | None = None) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core finds in `page` (a Playwright Page or Frame).

    Injecting by content, not by URL, works under any Content-Security-Policy that Playwright
    bypasses (`bypass_csp=True` on the browser context) and needs no file server.
    """
    require(axe_available(), f"axe-core ({AXE}; run `npm ci` in tests/mjml)")
    page.add_script_tag(content=Path(AXE).read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """async ([context, tags]) => await axe.run(context || document,
               {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        [context, WCAG_A_AA],
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation with the offending nodes, for assertion messages."""
    lines = []
    for violation in violations:
        targets = ", ".join(str(node.get("target")) for node in violation.get("nodes", [])[:5])
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation['help']} at {targets}")
    return "\n".join(lines)
