"""The test environment is pinned: every requirement in pyproject has an exact version in constraints.txt."""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO


def pins() -> dict[str, str]:
    found = {}
    for raw in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt: {raw!r} is not an exact pin (name==version)"
            found[canonicalize_name(name)] = version
    return found


def test_every_requirement_of_the_package_and_its_test_extra_is_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]
    pinned = pins()
    missing = [str(r) for r in wanted if canonicalize_name(r.name) not in pinned]
    assert not missing, f"not in constraints.txt (refresh it as the README says): {missing}"
    wrong = [
        f"{r.name}=={pinned[canonicalize_name(r.name)]} ({r})"
        for r in wanted
        if not r.specifier.contains(pinned[canonicalize_name(r.name)])
    ]
    assert not wrong, f"constraints.txt pins a version pyproject does not allow: {wrong}"
