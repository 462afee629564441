"""`newsletter init DIR`: a new office's project, from the example project this package ships with.

A project started by hand tends to miss the two things that protect constituents: a secret of
its own (the example `UNSUBSCRIBE_SECRET` lets anyone who read the README sign links for any
address) and a `.gitignore` that keeps the database, exports and subscriber files out of
version control. So `init` writes both, copies the example's issues, articles and templates
to start from, and refuses to touch a folder that already holds a project or a `.env`.
Everything is written into a staging folder first and moved into place, so a refused or
failed `init` leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import InputError, NewsletterError
from newsletter.fileio import write_atomic
from newsletter.project import holds_project

# The example project is the root of the repository this package is installed from
# (src/newsletter/publish/newproject.py -> four levels up).
EXAMPLE = Path(__file__).resolve().parents[3]
COPIED = ("issues", "articles", "templates", "images", "subscribers.example.csv")
SECRET_LINE = re.compile(r"^UNSUBSCRIBE_SECRET=.*$", re.M)
ENV_MODE = 0o600  # the secret signs every unsubscribe and preference link: readable by its owner only

GITIGNORE = """\
# newsletter: personal data and secrets stay out of version control.
# The project database: the list of record, consent evidence, suppressions, the send journal.
.newsletter/
# Pictures made for email from images/ (made again when missing).
.newsletter-images/
# Settings, with UNSUBSCRIBE_SECRET (and any SMTP password).
.env
# The office's subscriber files and exports (subscribers export, status --out, export-person).
subscribers.csv
*.csv
!subscribers.example.csv
*.json
exports/
# Messages written instead of sent (outbox) and built samples, each addressed to a person.
outbox/
build/
# DKIM private keys.
*.pem
"""


@dataclass(frozen=True)
class NewProject:
    """What `init` wrote, for the command to report."""

    root: Path
    written: tuple[str, ...]
    gitignore_extended: bool  # an existing .gitignore had the block appended


def example_project(source: Path = EXAMPLE) -> Path:
    """The shipped example project; a clear failure when the package was installed without it."""
    missing = [name for name in (*COPIED, ".env.example") if not (source / name).exists()]
    if missing:
        raise NewsletterError(
            f"{source}: the example project is not beside the installed package (missing {', '.join(missing)}); "
            "`newsletter init` needs a clone of the newsletter repository installed with `pip install -e`"
        )
    return source


def fresh_env(example_env: str) -> str:
    """`.env.example` with a fresh random UNSUBSCRIBE_SECRET in place of the example one."""
    secret = secrets.token_urlsafe(32)
    text, count = SECRET_LINE.subn(f'UNSUBSCRIBE_SECRET="{secret}"', example_env, count=1)
    if count != 1:
        raise NewsletterError(".env.example: no UNSUBSCRIBE_SECRET line to give a fresh secret")
    return "# Written by `newsletter init`, with a secret of this project's own.\n" + text


def _refusal(target: Path) -> str | None:
    """Why `init` must not write into `target`, or None."""
    if target.exists() and not target.is_dir():
        return f"{target}: not a folder"
    if holds_project(target):
        return f"{target}: already a newsletter project (it has issues/); use it with --project {target}"
    env = target / ".env"
    if env.is_file() and env.read_text(encoding="utf-8", errors="replace").strip():
        return f"{env}: a .env is already there; move it away first (init writes a new one with a fresh secret)"
    for name in COPIED:
        if (target / name).exists():
            return f"{target / name}: already there; init copies the example's {name} and never mixes it with yours"
    return None


def _stage(staging: Path, source: Path, gitignore: str) -> list[str]:
    """Write the whole project into `staging`; the names written, in order."""
    for name in COPIED:
        if (source / name).is_dir():
            shutil.copytree(source / name, staging / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            shutil.copy2(source / name, staging / name)
    env = fresh_env((source / ".env.example").read_text(encoding="utf-8"))
    write_atomic(staging / ".env", env.encode("utf-8"), fsync=True, mode=ENV_MODE)
    write_atomic(staging / ".gitignore", gitignore.encode("utf-8"), mode=0o644)
    return [*COPIED, ".env", ".gitignore"]


def _gitignore(target: Path) -> tuple[str, bool]:
    """The .gitignore to write: ours, or an existing one with ours appended when it lacks it."""
    existing = target / ".gitignore"
    if not existing.is_file():
        return GITIGNORE, False
    text = existing.read_text(encoding="utf-8", errors="replace")
    if ".newsletter/" in text.split():
        return text, False
    return text + ("" if text.endswith("\n") or not text else "\n") + "\n" + GITIGNORE, True


def init_project(target: Path, source: Path = EXAMPLE) -> NewProject:
    """Write a new project into `target` (created if missing); nothing is written when refused."""
    source = example_project(source)
    target = target.expanduser().absolute()
    if (why := _refusal(target)) is not None:
        raise InputError(why)
    gitignore, extended = _gitignore(target)
    fresh = not target.exists()
    parent = target.parent if fresh else target
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=parent))
    except OSError as exc:
        raise InputError(f"{target}: cannot create: {exc.strerror}") from exc
    moved: list[Path] = []
    try:
        written = _stage(staging, source, gitignore)
        if fresh:
            os.chmod(staging, 0o755)
            os.rename(staging, target)
        else:
            for name in written:
                os.replace(staging / name, target / name)
                moved.append(target / name)
    except BaseException as exc:
        for path in moved:  # undo a half-finished move (.gitignore goes last: an existing one is never lost)
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise NewsletterError(f"{target}: cannot write the project: {exc.strerror or exc}") from exc
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return NewProject(target, tuple(written), extended)
