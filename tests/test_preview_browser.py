"""The preview page in a real headless Chromium (Debian's), against the real `newsletter preview`.

Screenshots are kept under test-artifacts/preview/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Page, Request

from newsletter.content.issue import load_issue
from newsletter.errors import InputError
from tests.support.browser import ARTIFACTS, preview, save_by_rename

ISSUE = Path("issues/spring-2018.yaml")
FEATURED = Path("articles/sent-away-children-inquiry.md")
UNSUBSCRIBE = "https://www.example.org/unsubscribe?token="
LOCAL = re.compile(r"^http://127\.0\.0\.1:\d+/")


@pytest.fixture(scope="module")
def browser(chromium: Browser) -> Browser:
    """The module's Chromium (tests/conftest.py): a second sync Playwright would clash with it."""
    return chromium


@pytest.fixture
def requests_seen() -> list[Request]:
    return []


@pytest.fixture
def page(browser: Browser, requests_seen: list[Request]) -> Iterator[Page]:
    """A fresh page at a laptop size; requests that leave the machine are refused and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    opened = context.new_page()
    opened.on("request", lambda request: requests_seen.append(request))
    opened.set_default_timeout(30_000)  # a cap on each wait for a condition, generous for a loaded machine
    yield opened
    context.close()


def newsletter(page: Page) -> Frame:
    frame = page.frame_locator("#frame")
    frame.locator("body").wait_for()
    handle = page.locator("#frame").element_handle()
    assert handle is not None
    content = handle.content_frame()
    assert content is not None
    return content


def open_preview(page: Page, url: str) -> Frame:
    page.goto(url)
    page.wait_for_selector("body[data-state=ok]")
    page.wait_for_function("() => document.getElementById('frame').dataset.loaded")
    return newsletter(page)


def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def test_page_shows_the_real_message(page: Page, project: Path, requests_seen: list[Request]) -> None:
    issue = load_issue(project / ISSUE)
    assert issue.featured is not None
    with preview(project) as running:
        frame = open_preview(page, running.url)
        assert page.inner_text("h1") == issue.subject
        assert issue.featured.title in frame.inner_text("body")
        unsubscribe = frame.locator(f'a[href^="{UNSUBSCRIBE}"]')
        assert unsubscribe.count() >= 1
        headers = dict(
            zip(
                page.locator("#headers th").all_inner_texts(),
                page.locator("#headers td").all_inner_texts(),
                strict=True,
            )
        )
        assert headers["Subject"] == issue.subject
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert UNSUBSCRIBE in headers["List-Unsubscribe"]
        assert "reader@example.org" in headers["To"]
        page.click("#tab-text")
        assert page.is_visible("#text-part") and page.is_hidden("#frame")
        text = page.inner_text("#text-part")
        assert UNSUBSCRIBE in text and issue.featured.title in text
        assert text.splitlines() == running.state()["message"]["text"].splitlines()  # as written, not re-wrapped
        page.click("#tab-html")
        assert page.is_visible("#frame")
        assert "102.0 KB" in page.inner_text("#size-text")
        assert page.inner_text("#checks-summary")

        # A link in the newsletter opens a new tab; the preview stays where it is.
        with page.context.expect_page(timeout=30_000):
            frame.locator("h3 a").first.click()
        assert "/message.html?" in frame.url

        page.select_option("#reader", "margaret.hughes@example.org")
        page.wait_for_function("() => document.getElementById('frame').dataset.loaded.includes('margaret')")
        assert "Dear Margaret" in newsletter(page).inner_text("body")
        assert "Margaret Hughes" in page.inner_text("#headers")
        assert "subscriber=margaret.hughes" in page.url

        own = [r.url for r in requests_seen if r.frame == page.main_frame]
        assert own and all(LOCAL.match(url) for url in own), own


def test_findings_show_errors_and_warnings_apart(page: Page, project: Path) -> None:
    text = (project / ISSUE).read_text(encoding="utf-8")
    (project / ISSUE).write_text(re.sub(r"^preheader: .*$", 'preheader: ""', text, flags=re.M), encoding="utf-8")
    article = project / "articles" / "sent-away-children-inquiry.md"
    article.write_text(article.read_text(encoding="utf-8") + "\n[Click here](https://www.example.org/x).\n")
    with preview(project, env={"NEWSLETTER_POSTAL_ADDRESS": ""}) as running:
        open_preview(page, running.url)
        assert page.locator("#errors .finding.error").count() >= 1
        assert "postal" in page.inner_text("#errors").lower()
        assert "preheader" in page.inner_text("#warnings").lower()
        assert "link text 'Click here' does not say where it goes" in page.inner_text("#warnings")
        assert page.locator("#warnings .finding.error").count() == 0
        error_bg = page.eval_on_selector("#errors .finding", "e => getComputedStyle(e).backgroundColor")
        warning_bg = page.eval_on_selector("#warnings .finding", "e => getComputedStyle(e).backgroundColor")
        assert error_bg != warning_bg


def test_phone_width_has_no_horizontal_scroll_and_columns_stack(
    page: Page, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with preview(project) as running:
        frame = open_preview(page, running.url)
        image_column, text_column = ".mj-column-per-38", ".mj-column-per-62"
        left = frame.locator(image_column).first.bounding_box()
        right = frame.locator(text_column).first.bounding_box()
        assert left and right and left["x"] + left["width"] <= right["x"] + 1, "desktop: side by side"
        folder = artifacts()
        page.screenshot(path=folder / "page-desktop.png", full_page=True)

        page.click("#width-mobile")
        page.wait_for_function("() => document.getElementById('frame').contentWindow.innerWidth === 375")
        frame = newsletter(page)
        assert frame.evaluate("window.innerWidth") == 375
        assert frame.evaluate("document.scrollingElement.scrollWidth") <= 375
        top = frame.locator(image_column).first.bounding_box()
        below = frame.locator(text_column).first.bounding_box()
        assert top and below and below["y"] >= top["y"] + top["height"] - 1, "phone: the columns stack"
        assert abs(top["x"] - below["x"]) < 1
        page.screenshot(path=folder / "page-phone.png", full_page=True)

        html_url = running.url + page.eval_on_selector("#frame", "f => f.getAttribute('src')").lstrip("/")
        for width in (600, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(html_url)
            assert page.evaluate("document.scrollingElement.scrollWidth") <= width
            page.screenshot(path=folder / f"newsletter-{width}.png", full_page=True)
    with capsys.disabled():
        print(f"\npreview screenshots: {folder}")


def test_saving_an_article_updates_the_open_page(page: Page, project: Path) -> None:
    issue = load_issue(project / ISSUE)
    assert issue.featured is not None
    with preview(project) as running:
        frame = open_preview(page, running.url)
        page.evaluate("() => { window.notReloaded = true; }")
        assert issue.featured.title in frame.inner_text("body")
        new_title = "Inquiry into children sent away: evidence sessions announced"
        article = project / FEATURED
        text = article.read_text(encoding="utf-8")
        article.write_text(re.sub(r"^title: .*$", f'title: "{new_title}"', text, count=1, flags=re.M), encoding="utf-8")
        page.wait_for_function(
            "t => document.getElementById('frame').contentDocument?.body?.innerText.includes(t)",
            arg=new_title,
        )
        assert page.evaluate("() => window.notReloaded") is True, "the page itself must not reload"
        assert new_title in (page.text_content("#text-part") or "")


def test_a_broken_issue_shows_the_error_then_recovers(page: Page, project: Path) -> None:
    path = project / ISSUE
    good = path.read_text(encoding="utf-8")
    with preview(project) as running:
        open_preview(page, running.url)
        version = int(page.eval_on_selector("body", "b => b.dataset.version"))
        save_by_rename(path, good.replace("date: 2018-04-06", "date: 2018-04-06\n  broken: [", 1))
        page.wait_for_selector("body[data-state=problem]")
        assert page.is_hidden("#preview")
        with pytest.raises(InputError) as expected:
            load_issue(ISSUE)  # relative, as the preview was started (the cwd is the project)
        assert re.match(r".*spring-2018\.yaml:\d+: invalid YAML", str(expected.value))
        assert str(expected.value) in page.inner_text("#problem-lines")
        artifacts()
        page.screenshot(path=ARTIFACTS / "page-error.png")

        save_by_rename(path, good)
        page.wait_for_selector("body[data-state=ok]")
        page.wait_for_function("() => document.getElementById('frame').dataset.loaded.includes('v=')")
        assert page.is_hidden("#problem")
        assert int(page.eval_on_selector("body", "b => b.dataset.version")) >= version + 2
        assert running.process.poll() is None
