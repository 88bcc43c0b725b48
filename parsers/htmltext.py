"""HTML -> the pieces the parsers need: main text, metadata text and cells, meta tags, links.

Built on lxml directly (BeautifulSoup was ~10x slower on a 60 KB page: bench/parse_bench.py), with
lxml.etree's own element classes: lxml.html's class lookup is a Python call for every element
touched, which cost more than the whole walk.
Tables are rendered one line per row with the cells tab-joined, from the grid with rowspan and
colspan expanded (grid.py), so the table readers see every row's full label and its blank cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from parsers.errors import CorruptFile, LimitExceeded
from parsers.grid import SpanCell, expand, render_row
from parsers.rules.forms import (
    ATTACHMENT_EXTENSIONS,
    ATTACHMENT_MARKERS,
    HTML_BLOCK_TAGS,
    HTML_INLINE_TAGS,
    HTML_SKIP_TAGS,
    MAIN_CONTENT_XPATHS,
)
from parsers.rules.limits import (
    MAX_HTML_DEPTH,
    MAX_HTML_TAGS,
    MAX_SPAN,
    MAX_TEXT_CHARS,
    MAX_TEXT_LINES,
)

_SPACES_RE = re.compile(r"[ \t\r\n\f\v\xa0]+")
# Control characters libxml2 rejects; surrogates cannot be encoded. Both occur in junk input.
_BAD_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*>", re.I)
_SPAN_RE = re.compile(r"\s*(\d{1,4})")


def _alternation(names: tuple[str, ...]) -> str:
    """'(?:s(?:pan|trong|)|font|…)': grouped by first letter, which re tries twice as fast."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name[0], []).append(name[1:])
    parts = [
        first + (f"(?:{'|'.join(sorted(rests, key=lambda r: r == ''))})" if rests != [""] else "")
        for first, rests in groups.items()
    ]
    return f"(?:{'|'.join(parts)})"


# An inline tag, open or close. Its attributes stop at the next '<' (quoted values too), so an
# unclosed tag costs a scan to the next tag only: linear on a page of 100,000 unclosed <font.
_INLINE_TAG_RE = re.compile(
    rf"""<(?:/\s*)?{_alternation(HTML_INLINE_TAGS)}(?=[\s/>])(?:[^<>"']|"[^"<]*"|'[^'<]*')*>""",
    re.I,
)
_MAIN_XPATHS = tuple(etree.XPath(x) for x in MAIN_CONTENT_XPATHS)
_STRING_VALUE = etree.XPath("string()", smart_strings=False)  # what lxml.html's text_content() runs


@dataclass(frozen=True)
class Page:
    """One HTML page taken apart."""

    main_text: str  # the text snapshot: div#zoom, else div.TRS_Editor, else body
    other_text: str  # the rest of the page, where the metadata block usually sits
    table_rows: tuple[tuple[str, ...], ...]  # every <tr> of the page as its cells' texts
    meta: dict[str, str]  # <meta name=...> contents
    title_candidates: tuple[str, ...]  # <title> then h1-h3 texts
    attachments: tuple[str, ...]


def read_page(html: str) -> Page:
    """Parse once and extract every piece; junk input gives an empty page.

    Raises LimitExceeded for a page over MAX_HTML_TAGS or nested deeper than MAX_HTML_DEPTH.
    """
    tags = html.count("<")
    if tags > MAX_HTML_TAGS:
        raise LimitExceeded("page", tags, "tags", MAX_HTML_TAGS, "MAX_HTML_TAGS")
    try:
        return _read_page(html)
    except etree.Error as exc:  # lxml's own limits (e.g. XPath node sets): a named error
        raise CorruptFile("HTML") from exc


def _read_page(html: str) -> Page:
    root = _parse(html)
    if root is None:
        return Page("", "", (), {}, (), ())
    main = _main_element(root)
    body = root.find("body")
    body = root if body is None else body
    main_render = _Renderer(skip=None)
    main_render.walk(main)
    other_render = _Renderer(skip=main)
    if main is not body:
        other_render.walk(body)
    return Page(
        main_text=main_render.text(),
        other_text=other_render.text(),
        table_rows=tuple(other_render.raw_rows + main_render.raw_rows),
        meta=_meta_tags(root),
        title_candidates=_title_candidates(root, main),
        attachments=_attachments(main),
    )


def _parse(html: str) -> etree._Element | None:
    cleaned = _BAD_CHARS_RE.sub("", _XML_DECL_RE.sub("", html, count=1))
    # Unclosed inline tags (Word-pasted <font>, <span>) would stay open across the paragraphs,
    # cells and rows after them: tables broken apart (a report's 212 figures read as 3) and the
    # page nested past libxml2's depth limit. Without them the text is the same.
    cleaned = _INLINE_TAG_RE.sub("", cleaned)
    if not cleaned.strip():
        return None
    root, too_deep = _build(cleaned)
    if too_deep:
        unit = "levels of nesting or more"
        raise LimitExceeded("page", MAX_HTML_DEPTH, unit, MAX_HTML_DEPTH, "MAX_HTML_DEPTH")
    return root


def _build(html: str) -> tuple[etree._Element | None, bool]:
    """The tree (None: empty) and whether libxml2 stopped at its depth limit."""
    # One parser per call: a parser is not thread-safe. huge_tree lifts libxml2's depth limit
    # from 256 to MAX_HTML_DEPTH (its other limits are far above rules.limits').
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = etree.fromstring(html.encode("utf-8"), parser)
    except (etree.ParserError, ValueError):
        return None, False
    too_deep = _hit_depth_limit(parser)
    return (root if root is not None and isinstance(root.tag, str) else None), too_deep


def _hit_depth_limit(parser: etree.HTMLParser) -> bool:
    """libxml2 stops at a resource limit and returns what it had: never lose the rest silently."""
    for entry in parser.error_log.filter_types([etree.ErrorTypes.ERR_RESOURCE_LIMIT]):
        if "depth" in entry.message:
            return True
        raise CorruptFile(f"HTML ({entry.message.strip()})")
    return False


def _main_element(root: etree._Element) -> etree._Element:
    for xpath in _MAIN_XPATHS:
        found = xpath(root)
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            return found[0]
    body = root.find("body")
    return root if body is None else body


def clean(text: str) -> str:
    """Whitespace runs (incl. nbsp) collapsed to one space, ends stripped."""
    return _SPACES_RE.sub(" ", text).strip()


def _tag(node: etree._Element) -> str:
    tag = node.tag
    return tag.lower() if isinstance(tag, str) else ""  # comments and PIs have a function tag


@dataclass
class _Renderer:
    """Text with one line per paragraph and one line per table row; iterative (deep markup)."""

    skip: etree._Element | None
    lines: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    raw_rows: list[tuple[str, ...]] = field(default_factory=list)
    chars: int = 0

    def emit(self, line: str) -> None:
        """Add a line, within the text limits: spans can make a small page render huge text."""
        self.lines.append(line)
        self.chars += len(line) + 1
        if len(self.lines) > MAX_TEXT_LINES:
            raise LimitExceeded("text", len(self.lines), "lines", MAX_TEXT_LINES, "MAX_TEXT_LINES")
        if self.chars > MAX_TEXT_CHARS:
            raise LimitExceeded("text", self.chars, "characters", MAX_TEXT_CHARS, "MAX_TEXT_CHARS")

    def text(self) -> str:
        self.flush()
        return "\n".join(self.lines)

    def flush(self) -> None:
        if not self.current:
            return
        line = clean("".join(self.current))
        self.current.clear()
        if line:
            self.emit(line)

    def walk(self, root: etree._Element) -> None:
        # A node is pushed to be entered; a (node, tag) pair to be left once its children are done.
        stack: list[etree._Element | tuple[etree._Element, str]] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):
                self._leave(*item)
                continue
            tag = _tag(item)
            if item is self.skip or not tag or tag in HTML_SKIP_TAGS:
                self._tail(item, item is not root)
            elif tag == "table":
                self.flush()
                self._table(item)
                self._tail(item, item is not root)
            else:
                self._enter(item, tag)
                if len(item):
                    stack.append((item, tag))
                    stack.extend(reversed(item))
                else:
                    self._leave(item, tag)  # a leaf is left at once: no need to stack it

    def _enter(self, node: etree._Element, tag: str) -> None:
        if tag == "br" or tag in HTML_BLOCK_TAGS:
            self.flush()
        text = node.text
        if text:
            self.current.append(text)

    def _leave(self, node: etree._Element, tag: str) -> None:
        if tag in HTML_BLOCK_TAGS:
            self.flush()
        self._tail(node, True)

    def _tail(self, node: etree._Element, own_tail: bool) -> None:
        tail = node.tail if own_tail else None
        if tail:
            self.current.append(tail)

    def _table(self, table: etree._Element) -> None:
        for row in expand(self._cells_of(table)):
            line = render_row(row)
            if line is not None:
                self.emit(line)

    def _cells_of(self, table: etree._Element) -> Iterator[list[SpanCell]]:
        """Each row's cells, read as the grid is expanded: the text limits stop both."""
        for tr in _rows(table):
            row = [
                (_cell_text(td), _span(td, "rowspan"), _span(td, "colspan")) for td in _cells(tr)
            ]
            self.raw_rows.append(tuple(text for text, _, _ in row))
            yield row


def _rows(table: etree._Element) -> Iterator[etree._Element]:
    """The table's own rows (through thead/tbody/tfoot), not those of tables nested in cells."""
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            yield child
        elif tag in ("thead", "tbody", "tfoot"):
            yield from (tr for tr in child if _tag(tr) == "tr")


def _cells(tr: etree._Element) -> list[etree._Element]:
    return [td for td in tr if _tag(td) in ("td", "th")]


def _cell_text(td: etree._Element) -> str:
    # Paragraphs inside a cell are joined without a space: Word splits one label over <p>s.
    # A skipped element gives neither its text nor its tail; a comment gives its tail only.
    if not len(td):  # most cells: text only
        return clean(td.text or "").replace("\t", " ")
    parts: list[str] = []
    for node in td.iter():
        tag = _tag(node)
        if tag in HTML_SKIP_TAGS:
            continue
        if tag and node.text:
            parts.append(node.text)
        if node is not td and node.tail:
            parts.append(node.tail)
    return clean("".join(parts)).replace("\t", " ")


def _span(td: etree._Element, name: str) -> int:
    value = td.get(name)
    digits = _SPAN_RE.match(value) if value else None
    return max(1, min(int(digits.group(1)), MAX_SPAN)) if digits else 1


def _meta_tags(root: etree._Element) -> dict[str, str]:
    meta: dict[str, str] = {}
    for tag in root.iter("meta"):
        name, content = tag.get("name"), tag.get("content")
        if name and content is not None and name not in meta:
            meta[name] = content.strip()
    return meta


def _title_candidates(root: etree._Element, main: etree._Element) -> tuple[str, ...]:
    found = [str(_STRING_VALUE(t)) for t in root.iter("title")][:1]
    found += [str(_STRING_VALUE(h)) for h in main.iter("h1", "h2", "h3")]
    cleaned = (clean(t) for t in found)
    return tuple(t for t in cleaned if t)


def _attachments(main: etree._Element) -> tuple[str, ...]:
    # A dict keeps the first-seen order; a list's `in` made 30,000 links cost 4 s (quadratic).
    links: dict[str, None] = {}
    for a in main.iter("a"):
        href = (a.get("href") or "").strip()
        if href and href not in links and _is_attachment(href):
            links[href] = None
    return tuple(links)


def _is_attachment(href: str) -> bool:
    lowered = href.lower()
    path = lowered.split("#", 1)[0].split("?", 1)[0]
    return path.endswith(ATTACHMENT_EXTENSIONS) or any(m in lowered for m in ATTACHMENT_MARKERS)
