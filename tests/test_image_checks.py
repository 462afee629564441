"""The pictures before a send (checks/images.py): published where the messages point (asked of a
real web server on 127.0.0.1: one answering, one 404, one that never answers), refused for a send
to the list until they are, and weighed by `check` (budget, blurry, alt text)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.checks.images import TIMEOUT, alt_findings
from newsletter.cli import main
from newsletter.content.articles import load_article
from newsletter.errors import InputError
from newsletter.publish.archive import build_archive
from newsletter.settings import load_settings
from tests.conftest import REAL_SETTINGS, Run
from tests.support.archive_site import Site, archive_site
from tests.support.sending import subscriber_csv
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(120)
DATABASE = Path(".newsletter")
FEATURED = Path("articles/sent-away-children-inquiry.md")  # bus-shelter.png, featured in spring-2018
ALT = 'image_alt: "Drawing of an empty bench in a bus shelter as a red bus pulls in"'


@pytest.fixture
def site(tmp_path: Path) -> object:
    with archive_site(tmp_path / "site") as running:
        yield running


def publish(project: Path, site: Site) -> list[str]:
    """`newsletter archive --include-unsent` into the site's folder: the names it published."""
    build_archive(project, load_settings({"NEWSLETTER_ARCHIVE_URL": site.archive_url}), {}, site.folder,
                  include_unsent=True)  # fmt: skip
    return sorted(p.name for p in (site.folder / "images").iterdir())


def named(names: list[str], stem: str) -> str:
    return next(n for n in names if n.startswith(stem + "-"))


def test_check_names_each_picture_that_does_not_answer(project: Path, run_cli: Run, site: Site) -> None:
    names = publish(project, site)
    (site.folder / "images" / named(names, "bus-shelter")).unlink()  # answers 404
    site.hang.add(named(names, "railway-platform"))  # never answers
    result = run_cli("check", "spring-2018", env={"NEWSLETTER_ARCHIVE_URL": site.archive_url})
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if "is not published" in line]
    assert len(errors) == 2, result.stdout
    missing = next(e for e in errors if "bus-shelter.png" in e)
    assert f"{site.archive_url}images/{named(names, 'bus-shelter')} answers 404" in missing
    hanging = next(e for e in errors if "railway-platform.png" in e)
    assert f"no answer within {TIMEOUT:g} s" in hanging
    assert all("newsletter archive --include-unsent" in e and site.archive_url in e for e in errors)
    assert "childrens-homes.png" not in result.stdout  # it answered
    assert any(seen[0] == "HEAD" and "/images/childrens-homes-" in seen[1] for seen in site.seen), site.seen


def test_check_with_the_example_archive_url_asks_no_server(project: Path, run_cli: Run) -> None:
    """A fresh project (example settings, offline) gets no finding about publishing."""
    result = run_cli("check", "spring-2018")
    assert result.returncode == 0 and "published" not in result.stdout, result.stdout


def test_a_send_to_the_list_is_refused_until_its_pictures_are_published(
    project: Path, run_cli: Run, site: Site
) -> None:
    subscriber_csv(project / "list.csv", ["ann@constituents.example.net", "bob@constituents.example.net"])
    with Server() as server:
        env = {**REAL_SETTINGS, "NEWSLETTER_ARCHIVE_URL": site.archive_url, "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none"}  # fmt: skip
        refused = run_cli("send", "spring-2018", "--subscribers", "list.csv", "--yes", env=env)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        lines = refused.stderr.splitlines()
        assert len(lines) == 1 and "3 picture(s) not published" in lines[0], refused.stderr
        assert "bus-shelter.png (answers 404)" in lines[0] and "--allow-missing-images" in lines[0]
        assert not server.handler.received and not (project / DATABASE).exists()
        # A test copy, a dry run and a rehearsal into the outbox are how an office looks first.
        test = run_cli("send", "spring-2018", "--to", "me@office.example", env=env)
        dry = run_cli("send", "spring-2018", "--subscribers", "list.csv", "--dry-run", env=env)
        outbox = {k: v for k, v in env.items() if not k.startswith("SMTP_")}
        rehearsal = run_cli("send", "spring-2018", "--subscribers", "list.csv", "--yes", env=outbox)
        assert [r.returncode for r in (test, dry, rehearsal)] == [0, 0, 0], test.stderr + dry.stderr
        publish(project, site)
        sent = run_cli("send", "spring-2018", "--subscribers", "list.csv", "--yes", env=env)
    assert sent.returncode == 0, sent.stderr
    assert sorted(m.recipients[0] for m in server.handler.received if "me@" not in m.recipients[0]) == [
        "ann@constituents.example.net",
        "bob@constituents.example.net",
    ]


def test_allow_missing_images_sends_without_asking_the_site(project: Path, run_cli: Run, site: Site) -> None:
    subscriber_csv(project / "list.csv", ["ann@constituents.example.net"])
    with Server() as server:
        env = {**REAL_SETTINGS, "NEWSLETTER_ARCHIVE_URL": site.archive_url, "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none"}  # fmt: skip
        sent = run_cli("send", "spring-2018", "--subscribers", "list.csv", "--yes", "--allow-missing-images", env=env)
    assert sent.returncode == 0, sent.stderr
    assert "not checked on the archive site (--allow-missing-images)" in sent.stderr
    assert len(server.handler.received) == 1 and not site.seen


def check(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, list[str]]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = main(["check", "spring-2018"])
    captured = capsys.readouterr()
    return code, captured.out.splitlines() + captured.err.splitlines()


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_weighs_the_pictures_against_the_budget(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = check(capsys, monkeypatch)
    assert code == 0 and not [line for line in lines if "image-" in line or "picture" in line], lines
    code, lines = check(capsys, monkeypatch, NEWSLETTER_IMAGE_BUDGET_KB="10")
    over = [line for line in lines if "over the 10 KB of NEWSLETTER_IMAGE_BUDGET_KB" in line]
    assert code == 0 and len(over) == 1 and over[0].startswith("warning: the pictures weigh"), lines


@pytest.mark.parametrize(
    ("value", "said"),
    [("lots", "'lots' is not a whole number"), ("0", "0 is out of range"), ("1,024", "is not a whole number")],
)
def test_a_bad_budget_is_refused_in_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str, said: str
) -> None:
    code, lines = check(capsys, monkeypatch, NEWSLETTER_IMAGE_BUDGET_KB=value)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: NEWSLETTER_IMAGE_BUDGET_KB: "), lines
    assert said in lines[0]


def test_a_picture_smaller_than_twice_its_slot_is_blurry(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    Image.new("RGB", (600, 375), (90, 140, 90)).save(project / "images" / "bus-shelter.png")
    code, lines = check(capsys, monkeypatch)
    blurry = [line for line in lines if "look blurry" in line]
    assert code == 0 and len(blurry) == 1, lines
    assert "picture bus-shelter.png is 600 px wide, under the 1068 px its 534 px slot" in blurry[0]


@pytest.mark.parametrize(
    ("alt", "said"),
    [
        ('image_alt: "IMG_2041.jpg"', "'IMG_2041.jpg', a file name"),
        ("image_alt: photo.png", "'photo.png', a file name"),
        ("image_alt: DSC 0042", "'DSC 0042', a file name"),
        ("image_alt: \"Parliamentary inquiry into 'sent away' children\"", "repeats the article's title or summary"),
    ],
)
def test_alt_text_that_does_not_describe_the_picture_is_a_warning(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, alt: str, said: str
) -> None:
    replace(project / FEATURED, ALT, alt)
    code, lines = check(capsys, monkeypatch)
    found = [line for line in lines if "the picture of sent-away-children-inquiry" in line]
    assert code == 0 and len(found) == 1 and said in found[0], lines
    assert found[0].startswith(f"warning: {project / FEATURED}:8: "), found


def test_missing_alt_text_is_a_warning(project: Path) -> None:
    import dataclasses

    article = dataclasses.replace(load_article(project / FEATURED), image_alt=None)
    found = alt_findings([article])
    assert [f.code for f in found] == ["image-alt-text"] and "has no alt text" in found[0].message


VALUE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["IMG_2041.jpg", "photo.png", "images/../x.png", "images/", "bus-shelter.png", "", " "]),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(image=VALUE, alt=VALUE, quoted=st.booleans())
def test_any_image_and_alt_is_one_line_or_a_finding(project: Path, image: str, alt: str, quoted: bool) -> None:
    import json

    def field(value: str) -> str:
        return json.dumps(value) if quoted else value.replace("\n", " ")

    text = (project / FEATURED).read_text(encoding="utf-8")
    text = text.replace("image: images/bus-shelter.png", f"image: {field(image)}", 1).replace(
        ALT, f"image_alt: {field(alt)}"
    )
    path = project / "articles" / "hostile-picture.md"
    path.write_text(text, encoding="utf-8")
    try:
        article = load_article(path)
    except InputError as exc:
        assert str(exc).strip() and "\n" not in str(exc), str(exc)
        return
    for finding in alt_findings([article]):
        assert "\n" not in finding.message and finding.level == "warning"
