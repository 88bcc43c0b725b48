"""Posts a 年报 column lists that are not reports (data/posts.toml): served beside the reports,
never part of the truth (issue 13)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from replica import layouts
from replica.plan import data_text
from replica.records import Portal, Report

POSTS_FILE = "posts.toml"
# Post document ids sit far above the reports' (docid_base + 1379 × rank), as a busy CMS's would.
DOCID_OFFSET = 700_000


@dataclass(frozen=True)
class Post:
    """One non-report post of a portal's 年报 column."""

    portal: str
    title: str
    published_at: str  # 'YYYY-MM-DDTHH:MM', Asia/Shanghai
    label: str  # 发布机构 as printed
    year: int  # the year node it is filed under
    reason: str  # words the classifier's reason must contain
    paragraphs: tuple[str, ...]
    source: str | None  # where the text comes from; None when invented
    invented: bool


@cache
def load_posts() -> tuple[Post, ...]:
    raw: dict[str, Any] = tomllib.loads(data_text(POSTS_FILE))
    return tuple(_post(row) for row in raw["posts"])


def _post(row: dict[str, Any]) -> Post:
    invented = bool(row.get("invented", False))
    if invented == ("file" in row) or invented == ("text" not in row):
        raise ValueError(
            f"post {row['title']!r}: a real `file` with its `source`, or invented `text`"
        )
    text = row["text"] if invented else data_text(row["file"])
    return Post(
        portal=row["portal"],
        title=row["title"],
        published_at=row["published"],
        label=row["label"],
        year=int(row["year"]),
        reason=row["reason"],
        paragraphs=tuple(s for line in text.splitlines() if (s := line.strip())),
        source=None if invented else row["source"],
        invented=invented,
    )


def posts_of(portal_id: str) -> tuple[Post, ...]:
    return tuple(p for p in load_posts() if p.portal == portal_id)


def post_pages(portal: Portal, docid_base: int) -> dict[str, tuple[Report, Post]]:
    """The portal's posts by path, each with the record its templates render (not in the truth)."""
    found: dict[str, tuple[Report, Post]] = {}
    ordered = sorted(posts_of(portal.id), key=lambda p: p.published_at)
    for rank, post in enumerate(ordered):
        docid = docid_base + DOCID_OFFSET + 1379 * rank
        page = _page(portal, post, layouts.article_path(portal, post.published_at, docid), docid)
        found[page.url] = (page, post)
    return found


def _page(portal: Portal, post: Post, url: str, docid: int) -> Report:
    return Report(
        portal=portal.id,
        publisher="",  # no registry publisher: a post is nobody's report
        year=post.year,
        url=url,
        title=post.title,
        published_at=post.published_at,
        written_date=post.published_at[:10],
        index_no=f"POST/{post.published_at[:4]}-{docid % 100000:05d}",
        publisher_label=post.label,
        source=post.label,
        encoding="utf-8",
        layout=portal.layout,
        seed=None,
        attachment=None,
        deadline="",
        days_late=0,
    )
