"""The replica portals over real HTTP on 127.0.0.1: listings, pages, encodings, hooks."""

from __future__ import annotations

import html
import json
import math
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
from collections.abc import Iterator, Mapping
from email.message import Message
from pathlib import Path

import pytest

from replica.server import ReplicaServer
from replica.truth import Report, Truth, load_truth

REPO = Path(__file__).resolve().parents[1]
HREF = re.compile(r"<record><!\[CDATA\[<li><a href='([^']+)'[^>]*>[^<]*</a><span>([\d-]+)</span>")


class Reply:
    def __init__(self, status: int, headers: Message, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_PLAIN = urllib.request.build_opener(_NoRedirect)


def fetch(
    url: str,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    follow: bool = True,
) -> Reply:
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    opener = urllib.request.build_opener() if follow else _PLAIN
    try:
        with opener.open(request, timeout=10) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


@pytest.fixture(scope="module")
def truth() -> Truth:
    return load_truth()


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with ReplicaServer() as replica:
        yield replica.urls


@pytest.fixture()
def fresh() -> Iterator[dict[str, str]]:
    """A server of its own, for tests that change state."""
    with ReplicaServer() as replica:
        yield replica.urls


def newest_first(truth: Truth, portal: str) -> list[Report]:
    articles = [r for r in truth.reports_of(portal) if r.is_article]
    return sorted(articles, key=lambda r: (r.published_at, r.url), reverse=True)


def records(xml: str) -> list[tuple[str, str]]:
    return HREF.findall(xml)


def test_tongxiang_lists_every_article_once(truth: Truth, urls: dict[str, str]) -> None:
    base, portal = urls["tongxiang"], truth.portal("tongxiang")
    column = fetch(base + portal.column_path).body.decode("utf-8")
    first = records(column)
    proxy = re.search(r'<nextgroup><!\[CDATA\[<a href="([^"]+)"', column)
    assert proxy and proxy.group(1).startswith("/module/web/jpage/dataproxy.jsp?page=1&")
    listed: list[tuple[str, str]] = []
    page1 = fetch(base + proxy.group(1)).body.decode("utf-8")
    total = int(re.findall(r"<totalrecord>(\d+)</totalrecord>", page1)[0])
    pages = int(re.findall(r"<totalpage>(\d+)</totalpage>", page1)[0])
    assert pages == math.ceil(total / 15) and records(page1) == first
    for n in range(1, pages + 1):
        listed += records(
            fetch(base + proxy.group(1).replace("page=1&", f"page={n}&")).body.decode()
        )
    expected = [(r.url, r.published_date) for r in newest_first(truth, "tongxiang")]
    assert listed == expected and len(listed) == total == len(set(listed))


def test_taizhou_lists_every_article_once(truth: Truth, urls: dict[str, str]) -> None:
    base, portal = urls["taizhou"], truth.portal("taizhou")
    column = fetch(base + portal.column_path).body.decode("utf-8")
    total = int(re.findall(r"totalRecord:(\d+)", column)[0])
    form = urllib.parse.urlencode(
        {
            "col": 1,
            "appid": 1,
            "webid": portal.webid,
            "path": "/",
            "columnid": portal.column_id,
            "sourceContentType": 1,
            "unitid": portal.unit_id,
            "webname": portal.site_name,
            "permissiontype": 0,
        }
    ).encode()
    listed = records(column)
    for start in range(16, total + 1, 45):  # one call returns three pages, as on the real sites
        query = f"startrecord={start}&endrecord={start + 44}&perpage=15"
        reply = fetch(f"{base}/module/jpage/dataproxy.jsp?{query}", data=form)
        listed += records(reply.body.decode("utf-8"))
    expected = [(r.url, r.published_date) for r in newest_first(truth, "taizhou")]
    assert listed == expected and len(listed) == total
    assert fetch(f"{base}/module/jpage/dataproxy.jsp?startrecord=1&endrecord=45").status == 405


def test_every_report_answers_with_its_title(truth: Truth, urls: dict[str, str]) -> None:
    for r in truth.reports:
        reply = fetch(urls[r.portal] + r.url)
        assert reply.status == 200, r.url
        charset = "gb2312" if r.encoding == "gbk" else "utf-8"
        assert reply.headers["Content-Type"] == f"text/html; charset={charset}"
        text = html.unescape(reply.body.decode(r.encoding))
        assert f"charset={charset}" in text and f"<title>{r.title}</title>" in text
        for figure, value in r.figures:
            assert str(value) in text, (r.url, figure)
        if r.is_article:
            assert f'<meta name="PubDate" content="{r.published_at.replace("T", " ")}">' in text
            assert f"{r.index_no} " in text or f"{r.index_no}<" in text
            assert f"{r.publisher_label}" in text and r.title in text.split('id="zoom"')[0]


def test_seed_003_inline_metadata(truth: Truth, urls: dict[str, str]) -> None:
    r = next(r for r in truth.reports if r.seed == "003")
    text = fetch(urls["taizhou"] + r.url).body.decode("gbk")
    assert "索引号: 002668274/2018-66814 公开方式: 主动公开" in text
    assert "发布机构: 市经信委 成文日期: 2018-01-17" in text
    assert "信息来源: 市经信委 发布时间: 2018-01-17 08: 52" in text
    assert "当前位置" not in text.split('id="zoom"')[1]  # breadcrumb lines left out of the body


def test_gbk_pages_are_gbk(truth: Truth, urls: dict[str, str]) -> None:
    gbk = [r for r in truth.reports if r.encoding == "gbk"]
    assert any(r.portal == "tongxiang" for r in gbk) and any(r.portal == "taizhou" for r in gbk)
    for r in gbk:
        raw = fetch(urls[r.portal] + r.url).body
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        if r.gbk_probe:
            assert r.gbk_probe.encode("gbk") in raw  # a real GBK byte pair, not a &#NNNN; escape


def test_module_answers_every_year(truth: Truth, urls: dict[str, str]) -> None:
    for pub in (p for p in truth.publishers_of("tongxiang") if p.unit_code):
        for year in range(truth.first_year, truth.last_year + 1):
            query = f"area={pub.unit_code}&fbtime={year}"
            reply = fetch(f"{urls['tongxiang']}/module/xxgk/xxgkAnnualReport.jsp?{query}")
            report = truth.report("tongxiang", pub.name, year)
            assert reply.status == 200
            text = reply.body.decode(report.encoding if report else "utf-8")
            assert (report is None) == ("暂无信息" in text), (pub.name, year)
    newer = truth.report("tongxiang", "桐乡市人民政府", 2020)
    older = truth.report("tongxiang", "桐乡市人民政府", 2016)
    assert newer and older
    zoom = fetch(urls["tongxiang"] + older.url).body.decode(
        "gbk" if older.year <= 2015 else "utf-8"
    )
    assert f"<p>{older.title}</p>\n<p>发布时间:{older.published_date}</p>" in zoom
    assert "发布时间" not in fetch(urls["tongxiang"] + newer.url).body.decode("utf-8")


def test_attachment_redirects_to_a_pdf(truth: Truth, urls: dict[str, str]) -> None:
    r = next(r for r in truth.reports if r.attachment)
    base = urls[r.portal]
    assert r.attachment and html.escape(r.attachment) in fetch(base + r.url).body.decode()
    hop = fetch(base + r.attachment, follow=False)
    assert hop.status == 302 and hop.headers["Location"].startswith("/attach/0/")
    pdf = fetch(base + r.attachment)
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    body = pdf.body
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    xref_at = int(body.rsplit(b"startxref", 1)[1].split()[0])
    assert body[xref_at:].startswith(b"xref\n0 6\n")
    entries = body[xref_at:].split(b"\n")[3:8]
    for number, entry in enumerate(entries, start=1):
        assert body[int(entry[:10]) :].startswith(b"%d 0 obj" % number)


def test_conditional_requests(truth: Truth, urls: dict[str, str]) -> None:
    r = truth.reports[0]
    first = fetch(urls[r.portal] + r.url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    assert fetch(urls[r.portal] + r.url, headers={"If-None-Match": etag}).status == 304
    assert fetch(urls[r.portal] + r.url, headers={"If-Modified-Since": modified}).status == 304
    earlier = {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert fetch(urls[r.portal] + r.url, headers=earlier).status == 200
    stale = {"If-None-Match": '"0000"', "If-Modified-Since": modified}
    assert fetch(urls[r.portal] + r.url, headers=stale).status == 200  # the ETag decides


def test_revise_changes_page_and_etag(truth: Truth, fresh: dict[str, str]) -> None:
    r = next(r for r in truth.reports if r.portal == "taizhou" and r.encoding == "utf-8")
    base = fresh[r.portal]
    before = fetch(base + r.url)
    hook = f"{base}/__replica__/revise?path={urllib.parse.quote(r.url)}"
    assert json.loads(fetch(hook, data=b"").body) == {"path": r.url, "revisions": 1}
    after = fetch(base + r.url)
    assert after.body != before.body and "更正说明" in after.body.decode()
    assert after.headers["ETag"] != before.headers["ETag"]
    old_tag = {"If-None-Match": before.headers["ETag"]}
    assert fetch(base + r.url, headers=old_tag).status == 200
    assert fetch(base + r.url, headers={"If-None-Match": after.headers["ETag"]}).status == 304
    assert fetch(f"{base}/__replica__/revise?path=/nope.html", data=b"").status == 404
    fetch(f"{base}/__replica__/reset", data=b"")
    assert fetch(base + r.url).body == before.body


def test_stats_robots_and_404(truth: Truth, fresh: dict[str, str]) -> None:
    base = fresh["tongxiang"]
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(fetch(base + "/robots.txt").body.decode().splitlines())
    for r in truth.reports_of("tongxiang"):
        assert robots.can_fetch("nianbao", base + r.url)
    assert robots.can_fetch("nianbao", base + "/__replica__/stats")
    assert not robots.can_fetch("nianbao", base + "/private/drafts.html")
    assert fetch(base + "/art/2099/1/1/art_1_1.html").status == 404
    stats = json.loads(fetch(base + "/__replica__/stats").body)
    assert stats == {"/robots.txt": {"GET": 1}, "/art/2099/1/1/art_1_1.html": {"GET": 1}}


def test_python_m_replica_serve_prints_its_urls() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "replica", "serve"], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert proc.stdout is not None
        served = json.loads(proc.stdout.readline())
        assert set(served) == {"tongxiang", "taizhou"}
        for base in served.values():
            assert fetch(base + "/robots.txt").status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
