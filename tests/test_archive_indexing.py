"""Indexing captures into documents and versions, and matching them to the publisher registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from archive.blobs import BlobStore
from archive.captures import CaptureIn, record_capture
from archive.db import session_scope
from archive.figure_rows import decimal_text
from archive.indexing import index_captures
from archive.models import Attachment, Blob, Capture, Document, DocumentVersion
from archive.registry import (
    PublisherRegistry,
    PublisherSpec,
    RegistryEntry,
    match_publisher,
    sync_publishers,
)
from archive.runs import start_run
from questions.reports import get_report, list_reports

BASE = "http://xxgk.tx.gov.cn"
ARTICLE = f"{BASE}/art/2018/3/8/art_1229000001_84743.html"
ATTACHMENT = f"{BASE}/module/download/downfile.jsp?classid=0&filename=0a1b2c3d.pdf"
T0 = datetime(2024, 3, 1, 18, 30, tzinfo=UTC)
JINGXIN = PublisherSpec(
    "tongxiang", "桐乡市经济和信息化局", ("市经信局", "经信局"), "department", "11330483002558219A"
)


def report_html(
    *,
    title: str = "桐乡市经济和信息化局2017年度政府信息公开工作报告",
    publisher: str = "市经信局",
    published: str = "2018-03-08 20:57",
    proactive: int = 218,
    charset: str = "utf-8",
    index_no: str = "11330483002558219A/2018-84743",
) -> bytes:
    """A Hanweb article page as the portals serve it: meta tags, label/value table, div#zoom."""
    html = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{published}">
<meta name="ContentSource" content="{publisher}"><title>{title}</title></head>
<body><table class="xxgk_table">
<tr><td>索引号：</td><td>{index_no}</td><td>公开方式：</td><td>主动公开</td></tr>
<tr><td>发布机构：</td><td>{publisher}</td><td>成文日期：</td><td>{published[:10]}</td></tr>
</table><h1>{title}</h1>
<div id="zoom"><p>本报告是根据《中华人民共和国政府信息公开条例》的要求编制。报告中所列数据的统计期限自2017年1月1日起至2017年12月31日止。</p>
<p>一、主动公开政府信息情况</p><p>2017年度主动公开信息共计{proactive}条，其中政策文件4条。</p>
<p>二、依申请公开政府信息情况</p><p>2017年共受理政府信息公开申请17件。</p>
<p><a href="/module/download/downfile.jsp?classid=0&amp;filename=0a1b2c3d.pdf">附件：统计表.pdf</a></p></div>
</body></html>"""
    return html.encode("gbk" if charset == "gb2312" else charset)


def page_capture(body: bytes | None, at: datetime, **changes: object) -> CaptureIn:
    fields: dict[str, object] = {
        "portal": "tongxiang",
        "run_id": None,
        "url": ARTICLE,
        "final_url": ARTICLE,
        "status": 200,
        "headers": [("Content-Type", "text/html; charset=utf-8")],
        "body": body,
        "fetched_at": at,
        "kind": "article",
        "parent_url": f"{BASE}/col/col1229000001/index.html",
        "content_type": "text/html; charset=utf-8",
    }
    fields.update(changes)
    return CaptureIn(**fields)  # type: ignore[arg-type]


def crawl(engine: Engine, store: BlobStore, *captures: CaptureIn) -> tuple[int, int]:
    """Record captures in one run and index it, as a crawl followed by indexing does."""
    with session_scope(engine) as session:
        run = start_run(session, "tongxiang", "nightly")
        for cap in captures:
            record_capture(session, store, CaptureIn(**{**cap.__dict__, "run_id": run.id}))
        stats = index_captures(session, store, run_id=run.id)
        return stats.new_reports, stats.new_versions


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_indexing_creates_a_matched_document(engine: Engine, store: BlobStore) -> None:
    with session_scope(engine) as session:
        sync_publishers(session, [JINGXIN])
    assert crawl(engine, store, page_capture(report_html(), T0)) == (1, 0)
    with session_scope(engine) as session:
        [row] = list_reports(session)
        assert row.publisher == "桐乡市经济和信息化局"  # the registry name, matched by alias
        assert (row.portal, row.year, row.url) == ("tongxiang", 2017, ARTICLE)
        assert row.title == "桐乡市经济和信息化局2017年度政府信息公开工作报告"
        assert row.index_no == "11330483002558219A/2018-84743"
        assert row.published_at == "2018-03-08T20:57"
        assert row.written_date == "2018-03-08"
        assert row.first_seen_at == T0 and row.first_seen_at.utcoffset() == timedelta(hours=8)
        assert (row.versions, row.captures) == (1, 1)
        assert list_reports(session, publisher="经信局") == [row]
        assert list_reports(session, year=2018) == []


def test_unchanged_recrawl_adds_no_version_and_no_blob(engine: Engine, store: BlobStore) -> None:
    body = report_html()
    crawl(engine, store, page_capture(body, T0))
    assert crawl(engine, store, page_capture(body, T0 + timedelta(days=1))) == (0, 0)
    with session_scope(engine) as session:
        [row] = list_reports(session)
        assert (row.versions, row.captures) == (1, 2)
        assert row.first_seen_at == T0
        assert count(session, Blob) == 1
        assert index_captures(session, store).new_versions == 0  # each capture is indexed once
        assert count(session, DocumentVersion) == 1


def test_changed_page_adds_a_version_and_keeps_the_old(engine: Engine, store: BlobStore) -> None:
    crawl(engine, store, page_capture(report_html(proactive=218), T0))
    changed = page_capture(report_html(proactive=219), T0 + timedelta(days=30))
    assert crawl(engine, store, changed) == (0, 1)
    with session_scope(engine) as session:
        [row] = list_reports(session)
        detail = get_report(session, row.id)
        assert detail is not None and row.versions == 2
        old, new = detail.versions
        assert "共计218条" in old.text and "共计219条" in new.text
        assert old.seen_at == T0 and new.seen_at == T0 + timedelta(days=30)
        assert old.content_sha256 != new.content_sha256
        assert old.parser_version and old.metadata["publisher"] == "市经信局"
        assert {f.key: f.value for f in old.figures}.get("headline.proactive_total") == "218"
        assert {f.key: f.value for f in new.figures}.get("headline.proactive_total") == "219"
        assert all(f.provenance["text"] in old.text for f in old.figures)


def test_reparse_keeps_versions_stable(engine: Engine, store: BlobStore) -> None:
    crawl(engine, store, page_capture(report_html(proactive=218), T0))
    crawl(engine, store, page_capture(report_html(proactive=218), T0 + timedelta(days=1)))
    crawl(engine, store, page_capture(report_html(proactive=219), T0 + timedelta(days=2)))
    with session_scope(engine) as session:
        before = [(v.id, v.content_sha256) for v in session.scalars(select(DocumentVersion))]
        stats = index_captures(session, store, reparse=True)
        assert (stats.new_reports, stats.new_versions) == (0, 0)
        after = [(v.id, v.content_sha256) for v in session.scalars(select(DocumentVersion))]
        assert after == before and len(after) == 2


def test_non_report_page_makes_no_document(engine: Engine, store: BlobStore) -> None:
    notice = (
        "<html><head><meta charset='utf-8'><title>关于开展安全生产检查的通知</title></head>"
        "<body><div id='zoom'><p>各镇（街道）：现将有关事项通知如下。</p></div></body></html>"
    ).encode()
    assert crawl(engine, store, page_capture(notice, T0)) == (0, 0)
    with session_scope(engine) as session:
        assert count(session, Document) == 0
        assert session.scalars(select(Capture.indexed_at)).one() is not None


def test_listing_and_304_captures_are_not_parsed(engine: Engine, store: BlobStore) -> None:
    listing = page_capture(b"<datastore></datastore>", T0, kind="listing")
    not_modified = page_capture(None, T0, status=304)
    assert crawl(engine, store, listing, not_modified) == (0, 0)


def test_attachment_is_linked_to_its_report_once(engine: Engine, store: BlobStore) -> None:
    pdf = b"%PDF-1.4\n% statistics table\n%%EOF\n"
    attachment = page_capture(
        pdf,
        T0 + timedelta(seconds=5),
        kind="attachment",
        url=ATTACHMENT,
        final_url=f"{BASE}/attach/0/0a1b2c3d.pdf",
        parent_url=ARTICLE,
        content_type="application/pdf",
    )
    crawl(engine, store, page_capture(report_html(), T0), attachment)
    recrawled = CaptureIn(**{**attachment.__dict__, "fetched_at": T0 + timedelta(days=1)})
    crawl(engine, store, page_capture(report_html(), T0 + timedelta(days=1)), recrawled)
    with session_scope(engine) as session:
        [row] = list_reports(session)
        detail = get_report(session, row.id)
        assert detail is not None
        [linked] = detail.attachments
        assert linked.url == ATTACHMENT and linked.content_type == "application/pdf"
        assert linked.sha256 is not None and store.get(linked.sha256) == pdf
        assert count(session, Attachment) == 1


def test_gbk_page_is_decoded_and_its_codec_kept(engine: Engine, store: BlobStore) -> None:
    body = report_html(charset="gb2312")
    cap = page_capture(body, T0, content_type="text/html; charset=gb2312")
    assert crawl(engine, store, cap) == (1, 0)
    with session_scope(engine) as session:
        assert session.scalars(select(Capture.encoding)).one() == "gb18030"
        [row] = list_reports(session)
        assert row.title == "桐乡市经济和信息化局2017年度政府信息公开工作报告"
        detail = get_report(session, row.id)
        assert detail is not None and detail.versions[0].encoding == "gb18030"


def test_registry_update_rematches_archived_documents(engine: Engine, store: BlobStore) -> None:
    crawl(engine, store, page_capture(report_html(publisher="市经信局"), T0))
    with session_scope(engine) as session:
        assert list_reports(session)[0].publisher == "市经信局"  # no registry yet: the page's label
        result = sync_publishers(session, [JINGXIN])
        assert (result.added, result.updated, result.removed) == (1, 0, 0)
        assert list_reports(session)[0].publisher == "桐乡市经济和信息化局"
        assert sync_publishers(session, [JINGXIN]).updated == 0
        sync_publishers(session, [])
        assert list_reports(session)[0].publisher == "市经信局"


def entry(
    id: int, name: str, *aliases: str, portal: str = "tongxiang", **kw: object
) -> RegistryEntry:
    fields: dict[str, object] = {
        "kind": "department",
        "unit_code": None,
        "first_year": None,
        "last_year": None,
    }
    fields.update(kw)
    return RegistryEntry(id=id, portal=portal, name=name, aliases=aliases, **fields)  # type: ignore[arg-type]


REGISTRY = PublisherRegistry(
    [
        entry(1, "桐乡市经济和信息化局", "市经信局", "经信局", unit_code="11330483002558219A"),
        entry(2, "桐乡市人民政府", "市政府办公室", kind="government"),
        entry(3, "桐乡市人民政府办公室"),
        entry(4, "桐乡市商务局(粮食局)", "市商务局"),
        entry(5, "台州市经济和信息化委员会", "市经信委", portal="taizhou", last_year=2018),
        entry(6, "台州市经济和信息化局", "市经信委", portal="taizhou", first_year=2019),
    ]
)


@pytest.mark.parametrize(
    ("portal", "label", "title", "unit_code", "year", "expected"),
    [
        ("tongxiang", "市经信局", None, None, None, 1),  # an alias equal to 发布机构
        # Full-width brackets and spaces are folded.
        ("tongxiang", " 桐乡市商务局（粮食局） ", None, None, None, 4),
        ("tongxiang", "某某中心", None, "11330483002558219a", None, 1),  # the unit code
        ("tongxiang", None, "桐乡市经济和信息化局2017年度政府信息公开工作报告", None, 2017, 1),
        ("tongxiang", None, "桐乡市人民政府办公室2019年度政府信息公开工作报告", None, 2019, 3),
        ("tongxiang", "未登记机构", "某县2017年度政府信息公开工作报告", None, 2017, None),
        ("taizhou", "市经信局", None, None, None, None),  # another portal's alias never matches
        ("taizhou", "市经信委", None, None, 2017, 5),  # a shared alias: the one that existed then
        ("taizhou", "市经信委", None, None, 2020, 6),
    ],
)
def test_match_publisher(
    portal: str,
    label: str | None,
    title: str | None,
    unit_code: str | None,
    year: int | None,
    expected: int | None,
) -> None:
    found = match_publisher(REGISTRY, portal, label, title, unit_code, year)
    assert (found.id if found else None) == expected


def test_match_publisher_from_the_database(engine: Engine) -> None:
    with session_scope(engine) as session:
        sync_publishers(session, [JINGXIN])
        found = match_publisher(session, "tongxiang", "经信局", None, None)
        assert found is not None and found.name == "桐乡市经济和信息化局"
        assert match_publisher(session, "taizhou", "经信局", None, None) is None


def test_publisher_spec_is_checked() -> None:
    with pytest.raises(ValueError):
        PublisherSpec("tongxiang", "x", (), "bureau")
    with pytest.raises(ValueError):
        PublisherSpec("tongxiang", "x", (), "department", first_year=2020, last_year=2019)


def test_decimal_text_is_exact() -> None:
    from decimal import Decimal

    assert decimal_text(Decimal("1E+3")) == "1000"
    assert decimal_text(Decimal("12.50")) == "12.50"
    assert decimal_text(343) == "343"
