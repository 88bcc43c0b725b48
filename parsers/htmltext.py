"""HTML -> the pieces the parsers need: main text, metadata text and cells, meta tags, links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PageElement

from parsers.errors import ParseError
from parsers.rules import ATTACHMENT_EXTENSIONS, ATTACHMENT_MARKERS, MAIN_CONTENT_SELECTORS

_BLOCKS = frozenset(
    ["address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
     "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
     "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre",
     "section", "table", "tbody", "thead", "tfoot", "ul", "td", "th"]
)  # fmt: skip
_SKIP = frozenset(
    ["script", "style", "noscript", "template", "head", "iframe", "object", "select", "option"]
)
_SPACES_RE = re.compile(r"[ \t\r\n\f\v\xa0]+")


@dataclass(frozen=True)
class Page:
    """One HTML page taken apart."""

    main_text: str  # the text snapshot: div#zoom, else div.TRS_Editor, else body
    other_text: str  # the rest of the page, where the metadata block usually sits
    table_rows: tuple[tuple[str, ...], ...]  # every <tr> of the page as cell texts
    meta: dict[str, str]  # <meta name=...> contents
    title_candidates: tuple[str, ...]  # <title> then h1-h3 texts
    attachments: tuple[str, ...]


def read_page(html: str) -> Page:
    """Parse once and extract every piece; raises ParseError if the markup cannot be parsed."""
    soup = _soup(html)
    main = _main_element(soup)
    root = soup.body or soup
    return Page(
        main_text=render_text(main),
        other_text=render_text(root, skip=main) if main is not root else "",
        table_rows=tuple(_row_cells(tr) for tr in soup.find_all("tr")),
        meta=_meta_tags(soup),
        title_candidates=_title_candidates(soup, main),
        attachments=_attachments(main),
    )


def _soup(html: str) -> BeautifulSoup:
    try:
        return BeautifulSoup(html, "lxml")
    except (ValueError, TypeError, LookupError, AssertionError) as exc:  # lxml chokes on some input
        try:
            return BeautifulSoup(html, "html.parser")
        except (ValueError, TypeError, LookupError, AssertionError):
            raise ParseError(f"unparseable HTML: {exc}") from exc


def _main_element(soup: BeautifulSoup) -> Tag:
    for selector in MAIN_CONTENT_SELECTORS:
        found = soup.select_one(selector)
        if found is not None:
            return found
    return soup.body or soup


def render_text(root: Tag, skip: Tag | None = None) -> str:
    """Text with one line per paragraph and one line per table row (cells joined by tabs).

    Iterative, so deeply nested markup cannot exhaust the stack.
    """
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = _SPACES_RE.sub(" ", "".join(current)).strip()
        if line:
            lines.append(line)
        current.clear()

    for node in _walk(root, skip):
        if isinstance(node, NavigableString):
            current.append(str(node))
        elif node.name == "tr":
            flush()
            row = "\t".join(_row_cells(node)).rstrip("\t")
            if row.strip():
                lines.append(row)
        elif node.name == "br" or node.name in _BLOCKS:
            flush()  # on entering and on leaving a block
    flush()
    return "\n".join(lines)


def _walk(root: Tag, skip: Tag | None) -> Iterator[Tag | NavigableString]:
    """Depth-first: text nodes once, tags on entering and on leaving; table rows not descended."""
    stack: list[tuple[PageElement, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not comments, doctypes, CDATA, script strings
                yield node
            continue
        if not isinstance(node, Tag) or node is skip or node.name in _SKIP:
            continue
        yield node
        if entering and node.name != "tr":
            stack.append((node, False))
            stack.extend((child, True) for child in reversed(node.contents))


def _row_cells(tr: Tag) -> tuple[str, ...]:
    cells = tr.find_all(["td", "th"], recursive=False)
    return tuple(_SPACES_RE.sub(" ", c.get_text("")).strip() for c in cells)


def _meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name, content = tag.get("name"), tag.get("content")
        if isinstance(name, str) and isinstance(content, str) and name not in meta:
            meta[name] = content.strip()
    return meta


def _title_candidates(soup: BeautifulSoup, main: Tag) -> tuple[str, ...]:
    found = [soup.title.get_text(" ")] if soup.title else []
    found += [h.get_text(" ") for h in main.find_all(["h1", "h2", "h3"])]
    cleaned = (_SPACES_RE.sub(" ", t).strip() for t in found)
    return tuple(t for t in cleaned if t)


def _attachments(main: Tag) -> tuple[str, ...]:
    links: list[str] = []
    for a in main.find_all("a", href=True):
        href = a.get("href")
        if isinstance(href, str) and _is_attachment(href.strip()) and href.strip() not in links:
            links.append(href.strip())
    return tuple(links)


def _is_attachment(href: str) -> bool:
    lowered = href.lower()
    path = lowered.split("#", 1)[0].split("?", 1)[0]
    return path.endswith(ATTACHMENT_EXTENSIONS) or any(m in lowered for m in ATTACHMENT_MARKERS)
