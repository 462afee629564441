from pathlib import Path
from newsletter.store import Location
from tests.conftest import Run
from tests.support.known_send import ENV, known_send

def test_scratch(project: Path, run_cli: Run, on_each_backend: Location) -> None:
    known_send(project, run_cli, on_each_backend)
    for args in (("report",), ("report", "spring-2016"), ("report", "spring-2016", "--format", "json"), ("report", "spring-2018")):
        r = run_cli(*args, env=ENV)
        print(r.stdout, r.stderr)
    assert 0
