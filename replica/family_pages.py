"""Page templates of the other families: TRS WCM lists and articles, the jpaas list unit, and a
generic site on neither CMS (the facts they follow are in docs/portals.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from replica.pages import _head, _paragraphs
from replica.records import Portal, Report

JPAAS_UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"
JPAAS_TAG = "当前栏目list"


def _li(href: str, report: Report) -> str:
    title = escape(report.title)
    return f"<li><a href='{escape(href)}' title='{title}' target='_blank'>{title}</a><span>{report.published_date}</span></li>"


def trs_record(portal: Portal, report: Report) -> str:
    """A TRS list entry: the article's path relative to the column folder."""
    return _li("./" + report.url.removeprefix(portal.list_path), report)


def generic_record(report: Report) -> str:
    return _li(report.url, report)


def trs_list_page(portal: Portal, records: Sequence[str], page: int, pages: int) -> str:
    """List page `page` (0-based) of a TRS column; TRS's pager script names the page count."""
    metas = [("SiteName", portal.site_name), ("ColumnName", portal.column_name)]
    return (
        _head(portal.column_name, "utf-8", metas)
        + f'<body>\n<div class="position">当前位置：<a href="/">首页</a> &gt; 政务公开 &gt; {escape(portal.column_name)}</div>\n'
        + '<div class="list"><ul>\n'
        + "\n".join(records)
        + "\n</ul>\n"
        + f'<div class="page"><script type="text/javascript">createPageHTML({pages}, {page}, "index", "html");</script></div>\n'
        + "</div>\n</body></html>\n"
    )


def _info_table(report: Report) -> str:
    cells = [
        ("索引号", report.index_no or ""),
        ("发布机构", report.publisher_label or ""),
        ("生成日期", report.written_date or ""),
        ("公开方式", "主动公开"),
        ("主题分类", "政府信息公开年报"),
        ("文号", ""),
    ]
    tds = [f'<td class="label">{lab}：</td><td>{escape(val)}</td>' for lab, val in cells]
    rows = "".join(f"<tr>{tds[i]}{tds[i + 1]}</tr>\n" for i in range(0, len(tds), 2))
    return f'<table class="xxgk-info">\n{rows}</table>\n'


def trs_article(portal: Portal, report: Report, body: Sequence[str], files: Sequence[str]) -> str:
    """A TRS article: the head meta set, a metadata table, the body pasted from Word into
    div.TRS_Editor, and the 全真版 PDF link beside it."""
    metas = [
        ("SiteName", portal.site_name),
        ("SiteDomain", "www.pingtan.gov.cn"),
        ("SiteIDCode", "3501280001"),
        ("ColumnName", portal.column_name),
        ("ColumnType", "政府信息公开年报"),
        ("ArticleTitle", report.title),
        ("PubDate", report.published_at.replace("T", " ")),
        ("ContentSource", report.source or ""),
        ("Keywords", "政府信息公开,年度报告"),
    ]
    paragraphs = "".join(
        f'<p class="MsoNormal" style="text-indent:32pt"><span style="font-family:仿宋_GB2312">{escape(t)}</span><o:p></o:p></p>\n'
        for t in body
    )
    links = "".join(f'<p><a href="{escape(f)}" target="_blank">全真版</a></p>\n' for f in files)
    return (
        _head(report.title, report.encoding, metas)
        + f'<body>\n<div class="position">当前位置：<a href="/">首页</a> &gt; 政务公开 &gt; {escape(portal.column_name)}</div>\n'
        + _info_table(report)
        + f'<div class="title"><h1>{escape(report.title)}</h1></div>\n'
        + f'<div class="info">发布时间：{report.published_at.replace("T", " ")} 来源：{escape(report.source or "")}</div>\n'
        + f'<div class="TRS_Editor"><div class="Custom_UnionStyle">\n{paragraphs}</div></div>\n{links}'
        + "</body></html>\n"
    )


def trs_deleted_page() -> str:
    """What TRS answers (200) for a deleted document: a refresh to the column folder."""
    return (
        '<html><head><meta http-equiv="refresh" content="0;URL=../"></head><body></body></html>\n'
    )


def jpaas_column_page(portal: Portal, web_id: str, tpl_set_id: str) -> str:
    """A jpaas column page: no records, only the script that builds the list unit."""
    query = (
        f"{{'webId':'{web_id}','pageId':'{portal.column_id}','tplSetId':'{tpl_set_id}',"
        f"'pageType':'column','tagId':'{JPAAS_TAG}','editType':'null','pageSize':'{portal.per_page}'}}"
    )
    metas = [("SiteName", portal.site_name), ("ColumnName", portal.column_name)]
    return (
        _head(portal.column_name, "utf-8", metas)
        + f'<body>\n<div class="position">当前位置：<a href="/">首页</a> &gt; {escape(portal.column_name)}</div>\n'
        + f'<div class="list-box" id="div{portal.column_id}">\n'
        + f'<script type="text/javascript" src="/AuthorizedRead/unitbuild.js" id="unitbuild" url="{JPAAS_UNIT}" queryData="{query}"></script>\n'
        + "</div>\n</body></html>\n"
    )


def jpaas_answer(records: Sequence[str], page: int, pages: int, total: int) -> str:
    """One page of the jpaas list unit, as JSON; the pager links every page by number."""
    numbers = "".join(
        f'<a href="javascript:;" data-page="{n}">{n}</a>' for n in range(1, pages + 1)
    )
    following = f'<a href="javascript:;" data-page="{page + 1}">下一页</a>' if page < pages else ""
    html = (
        '<ul class="list">' + "".join(records) + "</ul>"
        f'<div class="pagination" data-total="{total}">{numbers}{following}</div>'
    )
    data = {"success": True, "code": "200", "msg": "操作成功", "data": {"html": html}}
    return json.dumps(data, ensure_ascii=False)


def jpaas_refusal() -> str:
    return json.dumps({"success": False, "code": "500", "msg": "参数错误", "data": None})


def generic_list_page(portal: Portal, records: Sequence[str], page: int, pages: int) -> str:
    """List page `page` (1-based) of a site on neither CMS: list.shtml, list_2.shtml, …"""

    def name(n: int) -> str:
        return "list.shtml" if n == 1 else f"list_{n}.shtml"

    pager = [f'<a href="{name(1)}">首页</a>']
    if page > 1:
        pager.append(f'<a href="{name(page - 1)}">上一页</a>')
    if page < pages:
        pager.append(f'<a href="{name(page + 1)}">下一页</a>')
    pager.append(f'<a href="{name(pages)}">尾页</a>')
    return (
        _head(portal.column_name, "utf-8")
        + '<body>\n<div class="nav"><a href="/">首页</a> <a href="/xxgk/">信息公开</a></div>\n'
        + f'<div class="main"><h2>{escape(portal.column_name)}</h2>\n<ul class="xxgk-list">\n'
        + "\n".join(records)
        + "\n</ul>\n"
        + f'<div class="pagination">{" ".join(pager)}</div>\n</div>\n</body></html>\n'
    )


def generic_article(report: Report, body: Sequence[str], files: Sequence[tuple[str, str]]) -> str:
    """A report page of a site on neither CMS: metadata as text lines, body in .article-content."""
    when = report.published_at.replace("T", " ")
    links = "".join(
        f'<p>附件：<a href="{escape(href)}">{escape(label)}</a></p>\n' for href, label in files
    )
    return (
        _head(report.title, report.encoding)
        + '<body>\n<div class="nav"><a href="/">首页</a> &gt; 信息公开 &gt; 年度报告</div>\n'
        + '<div class="xxgk-meta">\n'
        + f"<p>索引号: {escape(report.index_no or '')} 公开方式: 主动公开</p>\n"
        + f"<p>发布机构: {escape(report.publisher_label or '')} 成文日期: {report.written_date or ''}</p>\n"
        + f'</div>\n<h1 class="title">{escape(report.title)}</h1>\n'
        + f'<div class="info">信息来源: {escape(report.source or "")} 发布时间: {when}</div>\n'
        + f'<div class="article-content">\n{_paragraphs(body)}{links}</div>\n'
        + "</body></html>\n"
    )
