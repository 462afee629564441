"""Take the docs site's screenshots in real Chromium from the example project, so they show the
pages as the code draws them today.

    .venv/bin/python scripts/screenshots.py     # writes docs/images/{preview,signup,preferences}.png

It copies the example project to a temporary folder, imports the example list, runs
`newsletter preview spring-2018` and `newsletter serve` there (on free loopback ports, with the
tutorial's office settings so no development banner shows), and photographs the preview, the
signup form and one subscriber's preference centre with Debian's Chromium driven by Playwright.
Run it after changing a page's look, and commit the pictures.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
SUBSCRIBER = "margaret.hughes@example.org"
# The tutorial's office: real-looking settings, so `serve` runs without --dev and its banner.
OFFICE = {
    "NEWSLETTER_FROM": "Ann Coffey MP <news@your-office.org.uk>",
    "NEWSLETTER_REPLY_TO": "Office of Ann Coffey MP <office@your-office.org.uk>",
    "NEWSLETTER_LIST_ID": "Ann Coffey MP's newsletter <newsletter.your-office.org.uk>",
    "NEWSLETTER_POSTAL_ADDRESS": "Office of Ann Coffey MP\\n23 Great Underbank\\nStockport SK1 1NB",
    "NEWSLETTER_WEBSITE": "https://www.your-office.org.uk",
    "NEWSLETTER_ARCHIVE_URL": "https://www.your-office.org.uk/newsletter/",
    "UNSUBSCRIBE_URL": "https://www.your-office.org.uk/unsubscribe",
    "UNSUBSCRIBE_MAILTO": "unsubscribe@your-office.org.uk",
    "UNSUBSCRIBE_SECRET": "a-secret-only-for-the-screenshots",
}


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_", "DKIM_"))}
    return {**env, **OFFICE, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def example_project(root: Path) -> Path:
    project = root / "office"
    project.mkdir()
    for name in ("issues", "articles", "templates", "images"):
        shutil.copytree(REPO / name, project / name)
    shutil.copy(REPO / "subscribers.example.csv", project / "subscribers.example.csv")
    newsletter("subscribers", "import", "subscribers.example.csv", cwd=project)
    return project


def newsletter(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=cwd, env=environment(), check=True, timeout=120)


@contextmanager
def running(*args: str, cwd: Path) -> Iterator[str]:
    """`newsletter ARGS --port 0` until the block ends; yields the URL it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", *args, "--port", "0"],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for _ in range(20):  # the URL is in the first lines it prints
            line = process.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            if match:
                yield match.group(0)
                return
            if not line:
                break
        raise SystemExit(f"newsletter {' '.join(args)} printed no URL")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def preference_link(base: str) -> str:
    from newsletter.audience.tokens import PREFERENCES, make_link_token

    token = make_link_token(
        PREFERENCES, SUBSCRIBER, OFFICE["NEWSLETTER_LIST_ID"], OFFICE["UNSUBSCRIBE_SECRET"], int(time.time())
    )
    return f"{base}/preferences?token={token}"


def main() -> int:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        project = example_project(Path(folder))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.set_default_timeout(60_000)
        with running("preview", "spring-2018", "--no-browser", cwd=project) as url:
            page.goto(url)
            page.wait_for_selector("body[data-state=ok]")
            page.wait_for_function("() => document.getElementById('frame').dataset.loaded")
            page.screenshot(path=str(IMAGES / "preview.png"))
        page.set_viewport_size({"width": 800, "height": 900})
        with running("serve", cwd=project) as url:
            page.goto(url + "/subscribe")
            page.get_by_role("button", name="Sign up").wait_for()
            page.screenshot(path=str(IMAGES / "signup.png"), full_page=True)
            page.goto(preference_link(url))
            page.get_by_role("heading", name="Your newsletter preferences").wait_for()
            page.screenshot(path=str(IMAGES / "preferences.png"), full_page=True)
        browser.close()
    for name in ("preview", "signup", "preferences"):
        print(f"wrote {(IMAGES / name).relative_to(REPO)}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
