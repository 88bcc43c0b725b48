"""The web view in a real browser: Debian's chromium driven by Playwright, over an archive crawled
from the replica portals and served by `nianbao serve` in a subprocess.

The board is checked cell by cell against the replica's truth; every page loads without a
console error; an archived page carrying `<script>`, `onerror=` and a title with HTML runs
nothing. Screenshots of each page are kept under build/screenshots/ (gitignored).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, sync_playwright
from replica_fixtures import crawl_all, post, replica_process, replica_settings

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import make_engine, session_scope
from archive.indexing import index_captures
from replica import settings_for
from replica.truth import load_truth
from web.app import CAPTURE_CSP, PAGE_CSP

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
TRUTH = load_truth()
PORTAL = "tongxiang"
REVISED = [r for r in TRUTH.reports if r.revised]
YEARS = (TRUTH.first_year, TRUTH.last_year)
MARKER = "PWNED-9f3c"
HOSTILE_TITLE = f"外来机构2023年度政府信息公开工作报告<img src=x onerror=console.log('{MARKER}')>"
HOSTILE_PAGE = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>外来机构2023年度政府信息公开工作报告&lt;img src=x onerror=console.log('{MARKER}')&gt;</title>
<script>console.log('{MARKER} script'); alert('{MARKER}'); document.title = '{MARKER}';</script>
<meta name="ArticleTitle" content="{HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")}">
<meta name="PubDate" content="2024-01-10 09:00">
<meta name="ContentSource" content="外来机构">
</head>
<body onload="console.log('{MARKER} onload')">
<img src="x" onerror="console.log('{MARKER} onerror'); alert('{MARKER}')">
<svg onload="console.log('{MARKER} svg')"></svg>
<div class="article">
<table class="xxgk_table"><tr><td class="label">索引号：</td><td>HOSTILE/2024-1</td>
<td class="label">发布机构：</td><td>外来机构</td></tr>
<tr><td class="label">成文日期：</td><td>2024-01-08</td></tr></table>
<div class="title"><h1>{HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")}</h1></div>
<div class="info">发布时间:2024-01-10&nbsp;&nbsp;09:00 来源:外来机构</div>
<div id="zoom">
<p>本报告根据《中华人民共和国政府信息公开条例》编制。统计期限自2023年1月1日起至2023年12月31日止。</p>
<p>一、总体情况</p><p>2023年，外来机构扎实做好信息公开。</p>
<p>二、主动公开政府信息情况</p><p>2023年度共主动公开政府信息12条。</p>
<p>三、依申请公开政府信息情况</p><p>本年未收到政府信息公开申请。</p>
<script>console.log('{MARKER} body')</script>
</div></div></body></html>"""


@dataclass
class Served:
    url: str
    config: Path
    db: Path
    db_sha256: str
    hostile_url: str
    proc: subprocess.Popen[str]


@dataclass
class Browser:
    page: Page
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text), every frame
    errors: list[str] = field(default_factory=list)  # uncaught exceptions
    dialogs: list[str] = field(default_factory=list)
    # What the capture frame's CSP refused the archived page (its own iframes, fetches): the
    # safety at work, reported by the browser as errors, but the archived page's, not the app's.
    refused: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.console.clear()
        self.refused.clear()
        self.errors.clear()
        self.dialogs.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _add_hostile_page(database_url: str, blobs: Path, base_url: str) -> str:
    """Archive HOSTILE_PAGE as a report of `taizhou` (its 发布机构 matches no one, so the board's
    truth is untouched) and index it, as a crawl would."""
    url = f"{base_url}/art/2024/1/10/art_hostile.html"
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        store = BlobStore(blobs)
        record_capture(
            session,
            store,
            CaptureIn(
                portal="taizhou",
                run_id=None,
                url=url,
                final_url=url,
                status=200,
                headers=[("Content-Type", "text/html; charset=utf-8")],
                body=HOSTILE_PAGE.encode("utf-8"),
                fetched_at=datetime.now(UTC),
                kind="article",
                content_type="text/html; charset=utf-8",
                detected_type="html",
            ),
        )
        index_captures(session, store, portal="taizhou")
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The replica crawled into a SQLite archive, then `nianbao serve` on a free port."""
    root = tmp_path_factory.mktemp("web")
    database_url = f"sqlite:///{root / 'archive.db'}"
    with replica_process() as urls:
        settings = replica_settings(urls, database_url, root / "blobs")
        assert [s.status for s in crawl_all(settings)] == ["ok"] * len(urls)
        for report in REVISED:  # revised after publication: a second version, a diff to show
            post(f"{urls[report.portal]}/__replica__/revise?path={report.url}")
        assert [s.status for s in crawl_all(settings)] == ["ok"] * len(urls)
    hostile_url = _add_hostile_page(database_url, root / "blobs", urls["taizhou"])
    config = root / "settings.toml"
    config.write_text(settings_for(urls, database_url, str(root / "blobs")), encoding="utf-8")
    db = root / "archive.db"
    sha = hashlib.sha256(db.read_bytes()).hexdigest()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nianbao", "--config", str(config), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, proc)
        yield Served(base, config, db, sha, hostile_url, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"nianbao serve exited: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(f"{base}/style.css", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nianbao serve did not answer within 20 s")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is required (scripts/test installs Debian's chromium)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        b = Browser(page)
        page.on("console", lambda m: _console(b, m))
        page.on("pageerror", lambda e: b.errors.append(str(e)))

        def dialog(d: Dialog) -> None:
            b.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        yield b
        chromium.close()


def _visit(b: Browser, url: str, shot: str) -> None:
    b.clear()
    page = b.page
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


# A refusal names the directive it broke; those only the capture frame's CSP has are the
# archived page's (e.g. its own <iframe>, refused by frame-src 'none'), never the app's pages'.
CAPTURE_ONLY = {d.strip() for d in CAPTURE_CSP.split(";")} - {
    d.strip() for d in PAGE_CSP.split(";")
}


def _console(b: Browser, m: ConsoleMessage) -> None:
    broke = re.search(
        r'violates the following Content Security Policy directive: "([^"]+)"', m.text
    )
    if m.type == "error" and broke and broke.group(1) in CAPTURE_ONLY:
        b.refused.append(m.text)
    else:
        b.console.append((m.type, m.text))


def _no_console_errors(b: Browser) -> None:
    assert [t for kind, t in b.console if kind == "error"] == [] and b.errors == []


def expected_cell(publisher: str, kind: str, years: tuple[int, int], year: int) -> tuple[str, int]:
    """The truth's status of one cell: (status, days late)."""
    pub = next(p for p in TRUTH.publishers_of(PORTAL) if p.name == publisher)
    if not pub.existed(year):
        return ("not_expected", 0)
    if pub.key in TRUTH.expected_missing(year):
        return ("missing", 0)  # every deadline of the replica's years has passed
    days = TRUTH.expected_late(year).get(pub.key)
    return ("late", days) if days else ("on_time", 0)


BOARD_CELLS = """() => [...document.querySelectorAll('#board tbody tr')].flatMap(tr =>
  [...tr.querySelectorAll('td.cell')].map(td => [tr.dataset.publisher, +td.dataset.year,
   td.dataset.status, +(td.dataset.daysLate || 0), td.innerText, td.querySelector('a')?.getAttribute('href') || '']))"""


def test_the_board_matches_the_replicas_truth_cell_by_cell(
    served: Served, browser: Browser
) -> None:
    first, last = YEARS
    _visit(browser, f"{served.url}/board?portal={PORTAL}&from={first}&to={last}", "board")
    cells = browser.page.evaluate(BOARD_CELLS)
    publishers = {p.name for p in TRUTH.publishers_of(PORTAL)}
    assert {c[0] for c in cells} == publishers
    assert len(cells) == len(publishers) * (last - first + 1)
    wrong = []
    for name, year, status, days, text, href in cells:
        want, want_days = expected_cell(name, "", YEARS, year)
        got = status
        if status == "undated" and want == "on_time":
            # The report exists and is not late, but the archived copy states no date: only the
            # annual-report module's pages, which print the date outside the report.
            report = TRUTH.report(PORTAL, name, year)
            got = "on_time" if report is not None and report.layout == "module" else status
        if (got, days) != (want, want_days):
            wrong.append((name, year, status, days, want, want_days))
        # The words, not colour alone; a report links to its page, anything else to its evidence.
        words = {"on_time": "on time", "late": f"late {days} day{'s' if days != 1 else ''}"}
        assert words.get(status, "") in text
        assert href.startswith("/report/") if want in ("on_time", "late") else True
        if want in ("missing",):
            assert href == f"#{href[1:]}" and href.startswith("#ev-")
    assert wrong == []
    _no_console_errors(browser)
    # Counts per year are the cells' own.
    counts = browser.page.evaluate(
        """() => [...document.querySelectorAll('tfoot td[data-count]')].map(td =>
             [+td.dataset.year, td.dataset.count, +td.innerText])"""
    )
    for year, status, n in counts:
        assert n == sum(1 for c in cells if c[1] == year and c[2] == status), (year, status)


def test_filters_live_in_the_query_string_and_data_come_as_json_and_csv(
    served: Served, browser: Browser
) -> None:
    query = f"portal={PORTAL}&from=2019&to=2021&status=late"
    _visit(browser, f"{served.url}/board?{query}", "board-late-2019-2021")
    page = browser.page
    cells = page.evaluate(BOARD_CELLS)
    late = {
        (n, y): d
        for y in range(2019, 2022)
        for (portal, n), d in TRUTH.expected_late(y).items()
        if portal == PORTAL
    }
    assert {c[0] for c in cells} == {n for n, _ in late} != set()
    assert {(c[0], c[1]): c[3] for c in cells if c[2] == "late"} == late
    assert page.input_value("input[name=from]") == "2019"
    assert page.eval_on_selector("select[name=status]", "s => s.value") == "late"
    data = page.request.get(f"{served.url}/board.json?{query}").json()
    assert {(r["publisher"], r["year"], r["status"]) for r in data} == {
        (c[0], c[1], c[2]) for c in cells
    }
    csv_text = page.request.get(f"{served.url}/board.csv?{query}").text()
    assert csv_text.splitlines()[0].startswith("portal,publisher,kind,year,deadline,status")
    assert len(csv_text.strip().splitlines()) == len(cells) + 1
    _no_console_errors(browser)


def test_a_late_report_page_shows_dates_deadline_and_verdict(
    served: Served, browser: Browser
) -> None:
    (portal, name), days = next(
        (key, d) for key, d in sorted(TRUTH.expected_late(2019).items()) if key[0] == PORTAL
    )
    report = TRUTH.report(portal, name, 2019)
    assert report is not None
    _visit(browser, f"{served.url}/board?portal={portal}&from=2019&to=2019", "board-2019")
    page = browser.page
    page.click(f"tr[data-publisher='{name}'] td[data-year='2019'] a")
    page.wait_for_load_state()
    page.screenshot(path=str(SCREENSHOTS / "report-late.png"), full_page=True)
    assert page.inner_text("#report-title") == report.title
    verdict = page.inner_text("#verdict")
    assert f"late {days} day{'s' if days != 1 else ''}:" in verdict
    assert report.deadline in verdict
    dates = page.inner_text("table.dates")
    assert report.published_at.replace("T", "T")[:10] in dates and "deadline" in dates
    live = page.get_attribute("a[rel~=noreferrer]", "href")
    assert live is not None and live.endswith(report.url)
    _no_console_errors(browser)
    json_url = page.url + ".json"
    data = page.request.get(json_url).json()
    assert data["report"]["title"] == report.title and data["verdict"].startswith("late")


def test_every_page_loads_without_a_console_error(served: Served, browser: Browser) -> None:
    page = browser.page
    _visit(browser, f"{served.url}/board?portal={PORTAL}&from=2019&to=2019", "board-one-year")
    href = page.get_attribute("td[data-status=on_time] a", "href")
    pages = {
        "report": f"{served.url}{href}",
        "runs": f"{served.url}/runs",
        "search": f"{served.url}/search?q=经济和信息化",
    }
    for shot, url in pages.items():
        _visit(browser, url, shot)
        _no_console_errors(browser)
        if shot == "runs":  # two runs per portal, and each portal's health
            assert page.locator("table.runs tbody tr").count() == 2 * len(TRUTH.portals)
            subjects = page.eval_on_selector_all(
                "table.health tbody tr td:first-child", "tds => tds.map(td => td.innerText)"
            )
            assert subjects[-1] == "scheduler"
            assert sorted(subjects[:-1]) == sorted(p.id for p in TRUTH.portals)
    _visit(browser, pages["report"], "report")
    capture = page.get_attribute("a[href^='/capture/']", "href")
    _visit(browser, f"{served.url}{capture}", "capture")
    page.wait_for_load_state("load")
    _no_console_errors(browser)
    assert "search" in page.inner_text("nav")


def test_an_archived_hostile_page_runs_nothing(served: Served, browser: Browser) -> None:
    page = browser.page
    # The detector works: the same page, opened unprotected, does log the marker.
    page.goto("about:blank")
    browser.clear()
    page.set_content(HOSTILE_PAGE)
    page.wait_for_timeout(200)
    assert any(MARKER in t for _, t in browser.console) and browser.dialogs
    _visit(browser, f"{served.url}/search?q=外来机构", "search-hostile")
    assert "<img src=x onerror=" in page.inner_text("table.search")  # the title, as text
    page.click("table.search a")
    page.wait_for_load_state()
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / "report-hostile.png"), full_page=True)
    title = page.inner_text("#report-title")
    assert "<img src=x onerror=" in title  # shown as text
    assert page.query_selector("main img") is None and page.query_selector("main script") is None
    _no_console_errors(browser)  # on the search and report pages: nothing even tried to run
    assert browser.dialogs == [] and not [t for _, t in browser.console if MARKER in t]
    capture = page.get_attribute("a[href^='/capture/']", "href")
    browser.clear()
    page.goto(f"{served.url}{capture}")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "capture-hostile.png"), full_page=True)
    assert "<script>console.log(" in page.inner_text("pre.source")
    frames = page.frames
    assert len(frames) == 2 and frames[1].url.endswith("/view")
    assert page.get_attribute("iframe", "sandbox") == ""
    assert not [t for _, t in browser.console if MARKER in t], browser.console
    assert browser.dialogs == [] and browser.errors == []
    assert page.title() != MARKER
    # The iframe's own document: its script never set its title (scripts did not run there).
    assert frames[1].evaluate("document.title").startswith("外来机构2023")


def test_a_revised_report_shows_its_versions_side_by_side(served: Served, browser: Browser) -> None:
    report = REVISED[0]
    _visit(browser, f"{served.url}/search?q={report.title}", "search-revised")
    page = browser.page
    page.click(f"table.search a:text-is('{report.title}')")
    page.wait_for_load_state()
    page.screenshot(path=str(SCREENSHOTS / "report-revised.png"), full_page=True)
    assert page.locator("details").count() == 2  # two versions
    changed = page.locator(
        "table.diff tr.d-replace, table.diff tr.d-insert, table.diff tr.d-delete"
    )
    assert changed.count() >= 1
    assert "changed" in page.inner_text("main")  # the finding
    _no_console_errors(browser)


def test_the_figure_page_charts_and_tabulates_the_truths_figures(
    served: Served, browser: Browser
) -> None:
    key = "headline.applications_received"
    _visit(browser, f"{served.url}/figure?key={key}&portal={PORTAL}", "figure")
    page = browser.page
    table = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.figure-table tbody tr')].map(tr =>
             [tr.querySelector('th').innerText, [...tr.querySelectorAll('td')].map(td => td.innerText)]))"""
    )
    years = [
        int(t)
        for t in page.eval_on_selector_all(
            ".figure-table thead th", "hs => hs.slice(1).map(h => h.innerText)"
        )
    ]
    stated = [
        (r, dict(r.figures)[key])
        for r in TRUTH.reports_of(PORTAL)
        if key in dict(r.figures) and r.copy_of is None and r.registered
    ]
    assert stated
    for report, value in stated:
        row = table[f"{PORTAL} · {report.publisher}"]
        assert row[years.index(report.year)] == str(value), (report.publisher, report.year)
    cells = sum(1 for row in table.values() for v in row if v)
    assert page.locator("svg.chart circle").count() == cells  # one marker per value (≤ 12 lines)
    _no_console_errors(browser)


def _cli_json(served: Served, *args: str) -> object:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    done = subprocess.run(
        [sys.executable, "-m", "nianbao", "--config", str(served.config), *args],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_the_json_twins_are_the_clis_json(served: Served, browser: Browser) -> None:
    request = browser.page.request
    report = REVISED[0]
    found = request.get(f"{served.url}/search.json?q={report.title}").json()
    report_id = next(r["id"] for r in found if r["title"] == report.title)
    web = request.get(f"{served.url}/report/{report_id}.json").json()
    assert {k: v for k, v in web.items() if k not in ("deadline", "verdict")} == _cli_json(
        served, "show", str(report_id), "--json"
    )
    key = "headline.applications_received"
    assert request.get(f"{served.url}/figure.json?key={key}&portal={PORTAL}").json() == _cli_json(
        served, "figures", key, "--portal", PORTAL, "--format", "json"
    )
    assert request.get(f"{served.url}/runs.json").json() == _cli_json(
        served, "runs", "--format", "json"
    )


# Last: it stops the server to compare the archive with what it was before.
def test_headers_blobs_and_a_read_only_archive(served: Served, browser: Browser) -> None:
    request = browser.page.request
    for path in ("/board", "/runs", "/search?q=x", "/board.json", "/nowhere"):
        r = request.get(f"{served.url}{path}")
        assert "default-src 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-content-type-options"] == "nosniff", path
    for bad in ("/blob/..%2F..%2Fetc%2Fpasswd", "/blob/" + "A" * 64, "/blob/" + "0" * 64):
        assert request.get(f"{served.url}{bad}").status == 404, bad
    body = HOSTILE_PAGE.encode("utf-8")
    sha = hashlib.sha256(body).hexdigest()
    r = request.get(f"{served.url}/blob/{sha}")
    assert r.status == 200 and r.body() == body
    assert r.headers["content-type"] == "application/octet-stream"
    view = next(f"{served.url}{a}" for a in _capture_links(browser, served))
    r = request.get(view)
    csp = r.headers["content-security-policy"]
    assert "sandbox" in csp and "script-src" not in csp and "default-src 'none'" in csp
    served.proc.terminate()  # the server has closed the archive: compare it with before
    served.proc.wait(timeout=10)
    assert hashlib.sha256(served.db.read_bytes()).hexdigest() == served.db_sha256


def _capture_links(browser: Browser, served: Served) -> list[str]:
    page = browser.page
    page.goto(f"{served.url}/search?q=外来机构")
    page.click("table.search a")
    capture = page.get_attribute("a[href^='/capture/']", "href")
    return [f"{capture}/view"]
