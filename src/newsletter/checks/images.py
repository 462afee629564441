"""The pictures of an issue before it goes out: published where the messages point, and fit to send.

Every message refers to the project's pictures by their absolute URL under
`NEWSLETTER_ARCHIVE_URL` + `images/` (content/images.py): until `newsletter archive` has been run
(with `--include-unsent` before the issue's first send) and the archive folder uploaded there,
every reader sees a broken-image box. `unpublished` asks the web server with a HEAD request per
picture (a few at a time, each with a short timeout, so an unreachable site costs about one
timeout, not one per picture); `newsletter check` and a real send to the list both ask it
(`sending.start.prepare_send`).

`weight_findings` and `alt_findings` need no network: the pictures of one edition together over
the budget (`NEWSLETTER_IMAGE_BUDGET_KB`; phones on mobile data download every one of them), a
source narrower than twice its slot (it looks blurry on high-density screens), and alt text that
is missing, a file name ("IMG_2041.jpg") or the same words as the title or summary beside it
(a screen reader would read them twice).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from newsletter.checks.findings import Finding
from newsletter.checks.links import Outcome, Target, fetch
from newsletter.content.articles import Article
from newsletter.content.images import DENSITY, IMAGES_DIR, EmailImage
from newsletter.gates import values
from newsletter.gates.text import shown
from newsletter.mail.compose import Composed
from newsletter.settings import example_domain

BUDGET_SETTING = "NEWSLETTER_IMAGE_BUDGET_KB"
SETTINGS = (BUDGET_SETTING,)
DEFAULT_BUDGET_KB = 1024
BUDGET_RANGE = (1, 1_000_000)
TIMEOUT = 3.0  # seconds per picture: a published file answers a HEAD at once
CONCURRENCY = 4
# How to publish them before the send: an issue not yet sent is in the archive only with
# --include-unsent (its page too, which the message's "view in your browser" link needs anyway).
PUBLISH = "run `newsletter archive --include-unsent` and upload the archive folder, with its {folder}/, to {url}"
PICTURE_NAME = re.compile(
    r"""^\S*\.(jpe?g|png|gif|webp|heic|heif|avif|tiff?|bmp)$  # a file name: park.jpg, photo.png
    | ^(img|dsc|dscn|dscf|pxl|dji|gopr|mvimg|screenshot|image|photo|picture|pic)[\s_-]*[0-9]*$""",
    re.IGNORECASE | re.VERBOSE,
)  # camera and placeholder names: IMG_2041, DSC 0001, PXL_20260501, image, photo3


@dataclass(frozen=True)
class PublishCheck:
    """How `check` and a send ask whether the pictures are published."""

    timeout: float = TIMEOUT
    concurrency: int = CONCURRENCY


def image_budget(env: Mapping[str, str]) -> int:
    """`NEWSLETTER_IMAGE_BUDGET_KB` in bytes; a bad value is refused by the settings gate."""
    raw = env.get(BUDGET_SETTING, str(DEFAULT_BUDGET_KB))
    low, high = BUDGET_RANGE
    return values.whole_number(BUDGET_SETTING, raw, minimum=low, maximum=high) * 1024


def used_pictures(composed: Composed) -> list[EmailImage]:
    """The project's pictures that any edition of the issue shows, each once."""
    found: dict[str, EmailImage] = {}
    for edition in composed.editions or ():
        for picture in edition.rendered.images:
            found.setdefault(picture.name, picture)
    for picture in composed.rendered.images:
        found.setdefault(picture.name, picture)
    return list(found.values())


def can_be_published(archive_url: str) -> bool:
    """False while NEWSLETTER_ARCHIVE_URL is the example address: nothing can be published
    there, and a real send refuses example settings anyway, so asking it would only wait for a
    site that is not the office's (and a fresh project's `check` stays quiet and offline)."""
    return example_domain(archive_url) is None


def unpublished(pictures: Sequence[EmailImage], archive_url: str, check: PublishCheck) -> list[tuple[EmailImage, str]]:
    """Each picture that does not answer at its URL, with why (HEAD; GET where HEAD is refused)."""
    if not pictures:
        return []
    wanted = [Target(picture.url(archive_url), image=True) for picture in pictures]
    workers = max(1, min(check.concurrency, len(wanted)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imagecheck") as pool:
        outcomes = list(pool.map(lambda target: fetch(target, check.timeout), wanted))
    reasons = [(picture, _unanswered(outcome)) for picture, outcome in zip(pictures, outcomes, strict=True)]
    return [(picture, reason) for picture, reason in reasons if reason]


def published_findings(pictures: Sequence[EmailImage], archive_url: str, check: PublishCheck) -> list[Finding]:
    """An error for each picture that does not answer at its URL, saying how to publish it."""
    return [
        Finding(
            "error",
            "image-unpublished",
            f"picture {picture.source.name} is not published: {picture.url(archive_url)} {reason} "
            f"({_how(archive_url)})",
        )
        for picture, reason in unpublished(pictures, archive_url, check)
    ]


def _unanswered(outcome: Outcome) -> str:
    """Why a picture is not there for a reader ("" when it answered)."""
    if outcome.error:
        return outcome.error
    if outcome.status is not None and outcome.status >= 400:
        return f"answers {outcome.status}"
    return ""


def _how(archive_url: str) -> str:
    return PUBLISH.format(folder=IMAGES_DIR, url=archive_url)


def unpublished_summary(missing: Sequence[tuple[EmailImage, str]], archive_url: str) -> str:
    """One line for a refused send: which pictures do not answer, and what to do."""
    names = ", ".join(f"{picture.source.name} ({reason})" for picture, reason in missing)
    return (
        f"refusing to send: {len(missing)} picture(s) not published under {archive_url.rstrip('/')}/{IMAGES_DIR}/: "
        f"{names}; {_how(archive_url)}, then send again (or pass --allow-missing-images to send with broken pictures)"
    )


def weight_findings(composed: Composed, budget: int) -> list[Finding]:
    """Warnings for an edition whose pictures together weigh more than `budget` bytes, and for
    pictures whose source is narrower than twice their slot."""
    found: list[Finding] = []
    editions = [(e.edition.label, e.rendered.images) for e in composed.editions[1:]]
    for label, pictures in [("", composed.rendered.images), *editions]:
        total = sum(p.size for p in pictures)
        if total > budget:
            where = f"edition for {label}: " if label else ""
            found.append(
                Finding(
                    "warning",
                    "image-budget",
                    f"{where}the pictures weigh {total / 1024:.0f} KB together, over the {budget // 1024} KB of "
                    f"{BUDGET_SETTING} (slow on mobile data; use fewer or simpler pictures)",
                )
            )
    for picture in used_pictures(composed):
        needed = picture.slot * DENSITY
        if picture.source_width < needed:
            found.append(
                Finding(
                    "warning",
                    "image-blurry",
                    f"picture {picture.source.name} is {picture.source_width} px wide, under the {needed} px "
                    f"its {picture.slot} px slot needs on high-density screens: it will look blurry "
                    "(use a larger original)",
                )
            )
    return found


def alt_findings(articles: Iterable[Article]) -> list[Finding]:
    """Warnings for alt text that does not describe the picture to someone who cannot see it."""
    found = []
    for article in articles:
        if not article.image:
            continue
        where = article.image_alt_at or article.image_at or str(article.path)
        alt = " ".join((article.image_alt or "").split())
        if not alt:
            problem = "has no alt text (screen readers and blocked images show nothing)"
        elif PICTURE_NAME.match(alt):
            problem = f"has the alt text {shown(alt)}, a file name: say what the picture shows"
        elif _words(alt) in (_words(article.title), _words(article.summary)):
            problem = (
                "has alt text that repeats the article's title or summary (read twice): say what the picture shows"
            )
        else:
            continue
        found.append(Finding("warning", "image-alt-text", f"{where}: the picture of {article.slug} {problem}"))
    return found


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))
