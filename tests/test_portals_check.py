"""`nianbao portals check PORTAL` against replica portals, as a user runs it: what nianbao read
(family, records per page, the pager, module pages, a few records) in a handful of requests with
nothing archived; and portals it cannot read, with the reason."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cli import assert_one_line_error, nianbao

from crawler.probe import MARKERS, hanweb_pager, trs_pager
from replica import settings_for
from replica.families import load_family_truth
from replica.site import Site
from replica.truth import load_truth

PORTALS = ("tongxiang", "handan")


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    args = [arg for p in PORTALS for arg in ("--portal", p)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def settings(urls: dict[str, str], tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = settings_for(urls, f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path / "blobs"))
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "settings.toml"
    path.write_text(text, "utf-8")
    return path


def check(path: Path, portal: str, *args: str) -> subprocess.CompletedProcess[str]:
    return nianbao("--config", str(path), "portals", "check", portal, *args)


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def served(base: str) -> int:
    with urllib.request.urlopen(base + "/__replica__/stats", timeout=10) as response:
        return sum(sum(m.values()) for m in json.loads(response.read()).values())


def test_a_hanweb_portal_is_read(urls: dict[str, str], tmp_path: Path) -> None:
    truth = load_truth().reports_of("tongxiang")
    articles = sorted((r for r in truth if r.is_article), key=lambda r: (r.published_at, r.url))
    before = served(urls["tongxiang"])
    done = check(settings(urls, tmp_path), "tongxiang", "--json")
    assert done.returncode == 0, done.stderr
    report = as_json(done)
    assert (report["readable"], report["family"]) == (True, "hanweb")
    # A handful of requests, robots.txt included, each one counted by the replica.
    assert report["requests"] <= 10
    assert served(urls["tongxiang"]) - before == report["requests"]
    first = report["listings"][0]
    assert (first["status"], first["records"], first["url"]) == (
        200,
        15,
        urls["tongxiang"] + load_truth().portal("tongxiang").column_path,
    )
    assert report["pager"] == {
        "pages": math.ceil(len(articles) / 15),
        "how": "GET dataproxy.jsp?page=N (totalpage in its answer)",
    }
    modules = sorted((r for r in truth if r.layout == "module"), key=lambda r: r.url)
    assert [(m["title"], m["year"], m["is_report"]) for m in report["modules"]] == [
        (r.title, r.year, True) for r in modules if r.url.endswith(("2013", "2014"))
    ][:2]
    newest = {urls["tongxiang"] + r.url: (r.title, r.year) for r in articles[-15:]}
    assert len(report["records"]) == 3
    for record in report["records"]:
        assert (record["title"], record["year"]) == newest[record["url"]]
        assert record["is_report"] is True
    # The records listed on the listing pages fetched, less the three read.
    listed = sum(page["records"] for page in report["listings"])
    assert (listed, report["left"]["article"]) == (45, 42)
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "blobs").exists()


def test_a_trs_portal_is_read_and_said_in_words(urls: dict[str, str], tmp_path: Path) -> None:
    done = check(settings(urls, tmp_path), "handan")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    count = math.ceil(len(load_family_truth().reports_of("handan")) / 10)
    assert f"handan (trs, {urls['handan']}): nianbao reads it" in lines
    assert "  200 ok: 10 new records, asks for 2 more listing pages  /zfxxgknb/index.html" in lines
    assert f"pager: {count} pages; the pager script's variable countPage" in lines
    assert sum(line.endswith("| report  " + line.split()[-1]) for line in lines) == 3
    assert not (tmp_path / "a.db").exists()


def test_a_portal_on_the_wrong_family_says_why(urls: dict[str, str], tmp_path: Path) -> None:
    path = settings(urls, tmp_path, ('family = "hanweb"', 'family = "trs"'))
    done = check(path, "tongxiang")
    assert_one_line_error(done, "tongxiang: nianbao cannot read it", "trs spider found no record")
    assert "the page looks like a hanweb portal's (family = 'hanweb'?)" in done.stderr
    assert "cannot read: the trs spider found no record on the listing" in done.stdout


def test_a_listing_that_is_not_there_says_so(urls: dict[str, str], tmp_path: Path) -> None:
    column = load_truth().portal("tongxiang").column_path
    path = settings(urls, tmp_path, (column, "/col/col1/index.html"))
    report = as_json(check(path, "tongxiang", "--json"))
    assert (report["readable"], report["why"]) == (
        False,
        "the listing answered 404 (error: HTTP 404)",
    )


def test_a_listing_robots_txt_disallows_is_not_fetched(
    urls: dict[str, str], tmp_path: Path
) -> None:
    column = load_truth().portal("tongxiang").column_path
    path = settings(urls, tmp_path, (column, "/private/drafts.html"))
    before = served(urls["tongxiang"])
    report = as_json(check(path, "tongxiang", "--json"))
    assert (report["readable"], report["why"]) == (False, "robots.txt disallows the listing")
    assert report["robots_denied"] == 1
    # robots.txt and the two module pages only.
    assert served(urls["tongxiang"]) - before == report["requests"] == 3


def test_an_unknown_portal_is_one_line(tmp_path: Path) -> None:
    path = settings({"tongxiang": "http://127.0.0.1:9"}, tmp_path)
    assert_one_line_error(check(path, "nowhere"), "unknown portal 'nowhere'", "tongxiang")


PAGES = Path(__file__).parent / "pages"


def test_the_pager_is_described_as_each_family_reads_it() -> None:
    """On the saved real TRS column and on the replica's Hanweb variants (no real column page of
    Hanweb was found: tests/pages/SOURCES.md)."""
    real = (PAGES / "trs-handan-column.jsp").read_text("utf-8")
    assert trs_pager(real) == {"pages": 56, "how": "the pager script's variable countPage"}
    assert trs_pager("<html><body>nothing</body></html>")["pages"] is None
    taizhou, tongxiang = Site("taizhou"), Site("tongxiang")
    assert hanweb_pager("parse_column", taizhou.list_page(0).body.decode()) == {
        "pages": math.ceil(len(taizhou.listing) / 15),
        "how": f"POST dataproxy.jsp (totalRecord:{len(taizhou.listing)}, perPage:15)",
    }
    proxy = hanweb_pager("parse_proxy_page", tongxiang.proxy_page(1).body.decode())
    assert proxy == {
        "pages": math.ceil(len(tongxiang.listing) / 15),
        "how": "GET dataproxy.jsp?page=N (totalpage in its answer)",
    }


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("trs-handan-column.jsp", "trs"),
        ("hanweb-zj-jyt-article.html", "hanweb"),
        ("hanweb-jiangsu-article.html", "hanweb"),
    ],
)
def test_a_real_page_looks_like_its_family(name: str, family: str) -> None:
    text = (PAGES / name).read_text("utf-8")
    assert [f for f, marker in MARKERS.items() if marker.search(text)] == [family]
