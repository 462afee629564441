"""Issues: `issues/<slug>.yaml` selects articles; loading validates it and resolves them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from newsletter.content import prose
from newsletter.content.articles import SLUG, Article, format_date, load_article, parse_date, text_field
from newsletter.errors import InputError
from newsletter.gates.headers import HeaderError, header_value
from newsletter.gates.text import ASCII_CONTROL, did_you_mean, shown
from newsletter.yamlfile import item_lines, load_mapping

FIELDS = {"subject", "date", "preheader", "intro", "articles", "template", "audience"}
TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Project:
    """Where an issue's articles and templates live: beside its `issues/` folder."""

    root: Path

    @property
    def articles_dir(self) -> Path:
        return self.root / "articles"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @classmethod
    def of_issue(cls, issue_path: Path) -> Project:
        # Not resolved: paths stay as the user gave them, so errors read `articles/x.md:3`.
        parent = issue_path.parent
        if parent.name == "issues":
            return cls(parent.parent)
        if parent == Path() and Path.cwd().name == "issues":
            return cls(Path(".."))
        return cls(parent)


@dataclass(frozen=True)
class Issue:
    """A validated issue: its fields, its featured article and the other articles in order."""

    slug: str
    subject: str
    date: dt.date
    preheader: str
    intro_html: Markup
    intro_text: str
    featured: Article | None
    articles: tuple[Article, ...]
    template: str
    audience: dict[str, Any] | None
    path: Path
    project: Project
    audience_at: str = ""  # `path:line` of the `audience:` key, for errors about the segment
    # Article slug -> the wards it is for, as written (`wards: [..]` in its entry); articles not
    # listed are for everyone. See editions.py.
    wards: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    wards_at: dict[str, str] = dataclasses.field(default_factory=dict)  # slug -> `path:line` of its entry

    @property
    def date_text(self) -> str:
        return format_date(self.date)

    @property
    def all_articles(self) -> tuple[Article, ...]:
        return ((self.featured,) if self.featured else ()) + self.articles


class MissingArticles(InputError):
    """One or more selected articles do not exist; `check` lists every one."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        first = missing[0][1]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        super().__init__(first + more)
        self.missing = missing


def resolve_issue_path(name: str | Path, base: Path | None = None) -> Path:
    """Accept a path to the YAML file, a file name in `issues/`, or a bare slug."""
    path = Path(name)
    if path.exists():
        return path
    file_name = path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml"
    candidate = (base or Path()) / "issues" / file_name
    return candidate if path.parent == Path() and candidate.exists() else path


def issue_not_found(given: str | Path, folder: Path) -> InputError:
    """The one error for an issue that is not there, with the nearest issue in `folder` as a
    "did you mean": every command that takes an issue (send, build, check, preview) says it so."""
    names = [p.stem for p in folder.glob("*.y*ml")] if folder.is_dir() else []
    return InputError(f"{given}: issue file not found (looked in {folder}/){did_you_mean(Path(given).stem, names)}")


def find_issue(name: str | Path, root: Path | None = None) -> Path:
    """The issue file `name` means (see `resolve_issue_path`), or `issue_not_found`; a bare
    name is looked for in the project's `issues/` (`root`), wherever the command was started."""
    path = resolve_issue_path(name, root)
    if path.is_file():
        return path
    bare = Path(name).parent == Path()
    raise issue_not_found(
        name, root / "issues" if root is not None and bare else Project.of_issue(path).root / "issues"
    )


def load_issue(path: Path) -> Issue:
    """Read and validate an issue and the articles it selects."""
    if not path.is_file():
        raise issue_not_found(path, Project.of_issue(path).root / "issues")
    try:
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    slug = path.stem
    if not SLUG.match(slug):
        raise InputError(f"{path}: issue file names must be lowercase slugs like 'spring-2018.yaml'")
    doc = load_mapping(text, path)
    unknown = sorted(set(doc.data) - FIELDS)
    if unknown:
        raise InputError(f"{doc.at(unknown[0])}: unknown field '{unknown[0]}' (known: {', '.join(sorted(FIELDS))})")
    subject = text_field(doc, "subject") or ""
    try:  # the header gate, here so the error names the file and line
        header_value("Subject", subject, f"{doc.at('subject')}: field 'subject'")
    except HeaderError as exc:
        raise InputError(str(exc)) from None
    preheader = text_field(doc, "preheader", required=False) or ""
    intro = text_field(doc, "intro", single_line=False) or ""
    if "date" not in doc.data:
        raise InputError(f"{doc.at('date')}: field 'date' is missing or empty")
    date = parse_date(doc.data["date"], doc.at("date"), "date")
    template = text_field(doc, "template", required=False) or "newsletter"
    if not TEMPLATE_NAME.match(template):
        raise InputError(f"{doc.at('template')}: field 'template': {shown(template)} is not a template name")
    audience = doc.data.get("audience")
    if audience is not None and not isinstance(audience, dict):
        raise InputError(f"{doc.at('audience')}: field 'audience' must be a mapping (wards:, tags:)")
    project = Project.of_issue(path)
    featured, articles, wards, wards_at = _select_articles(doc.data.get("articles"), doc.at("articles"), text, project)
    return Issue(
        slug=slug,
        subject=subject,
        date=date,
        preheader=preheader,
        intro_html=prose.to_html(intro),
        intro_text=prose.to_text(intro),
        featured=featured,
        articles=tuple(articles),
        template=template,
        audience=audience,
        path=path,
        project=project,
        audience_at=doc.at("audience"),
        wards=wards,
        wards_at=wards_at,
    )


def _select_articles(
    entries: Any, where: str, text: str, project: Project
) -> tuple[Article | None, list[Article], dict[str, tuple[str, ...]], dict[str, str]]:
    """Resolve the `articles:` list: slugs or `{slug, featured, summary, wards}` mappings."""
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{where}: field 'articles' must be a non-empty list of article slugs")
    path = where.rsplit(":", 1)[0]
    lines = item_lines(text, "articles")
    featured: Article | None = None
    chosen: list[Article] = []
    seen: set[str] = set()
    missing: list[tuple[str, str]] = []
    wards: dict[str, tuple[str, ...]] = {}
    wards_at: dict[str, str] = {}
    for index, entry in enumerate(entries):
        at = f"{path}:{lines[index]}" if index < len(lines) else where
        slug, is_featured, summary, for_wards = _entry(entry, at)
        if for_wards:
            wards[slug], wards_at[slug] = for_wards, at
        if slug in seen:
            raise InputError(f"{at}: article '{slug}' is listed twice")
        seen.add(slug)
        article_path = project.articles_dir / f"{slug}.md"
        if not article_path.is_file():
            known = [p.stem for p in project.articles_dir.glob("*.md")] if project.articles_dir.is_dir() else []
            missing.append((slug, f"{at}: article '{slug}' not found ({article_path}){did_you_mean(slug, known)}"))
            continue
        article = load_article(article_path)
        if summary is not None:
            article = dataclasses.replace(article, summary=summary)
        if is_featured:
            if featured is not None:
                raise InputError(f"{at}: only one article can be featured ('{featured.slug}' already is)")
            featured = article
        else:
            chosen.append(article)
    if missing:
        raise MissingArticles(missing)
    return featured, chosen, wards, wards_at


ENTRY_KEYS = ("slug", "featured", "summary", "wards")


def _wards(value: Any, at: str) -> tuple[str, ...]:
    """`wards: [Brinnington and Central, Heatons North]` (or one name): the wards an article is for."""
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(v, str) and v.strip() and not ASCII_CONTROL.search(v) for v in items)
    ):
        raise InputError(f"{at}: 'wards' must be a list of ward names, like [Heatons North, Reddish South]")
    names: dict[str, str] = {}
    for item in items:
        names.setdefault(" ".join(item.split()).casefold(), " ".join(item.split()))
    return tuple(names.values())


def _entry(entry: Any, at: str) -> tuple[str, bool, str | None, tuple[str, ...]]:
    wards: tuple[str, ...] = ()
    if isinstance(entry, str):
        slug, featured, summary = entry.strip(), False, None
    elif isinstance(entry, dict):
        unknown = sorted(set(map(str, entry)) - set(ENTRY_KEYS))
        if unknown:
            raise InputError(f"{at}: unknown key '{unknown[0]}' in article entry (known: {', '.join(ENTRY_KEYS)})")
        slug = str(entry.get("slug") or "").strip()
        featured = entry.get("featured", False)
        if not isinstance(featured, bool):
            raise InputError(f"{at}: 'featured' must be true or false")
        summary = entry.get("summary")
        if summary is not None and (not isinstance(summary, str) or ASCII_CONTROL.search(summary.strip())):
            raise InputError(f"{at}: 'summary' must be a single line of text")
        summary = summary.strip() if summary else None
        if "wards" in entry:
            wards = _wards(entry["wards"], at)
    else:
        raise InputError(f"{at}: each article must be a slug or a mapping with 'slug'")
    if not SLUG.match(slug):
        raise InputError(f"{at}: {shown(slug)} is not an article slug (lowercase letters, digits, hyphens)")
    return slug, featured, summary, wards
