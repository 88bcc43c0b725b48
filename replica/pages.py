"""HTML and XML templates of the replica pages, shaped like the real 大汉 JCMS pages (portals.md)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from replica.records import Portal, Report

NEWER_PROXY = "/module/web/jpage/dataproxy.jsp"
OLDER_PROXY = "/module/jpage/dataproxy.jsp"
EMPTY_MODULE_TEXT = "暂无信息"

ROBOTS = "User-agent: *\nDisallow: /private/\nDisallow: /admin/\n"


def charset_label(encoding: str) -> str:
    """The charset old pages declare: gb2312, though the bytes are really GBK."""
    return "gb2312" if encoding == "gbk" else "utf-8"


def encode(html: str, encoding: str) -> bytes:
    # A few seed characters (NBSP, •) have no GBK code; such pages carried character references.
    return html.encode(encoding, errors="xmlcharrefreplace")


def _head(title: str, encoding: str, metas: Sequence[tuple[str, str]] = ()) -> str:
    tags = "".join(f'<meta name="{n}" content="{escape(v)}">\n' for n, v in metas)
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html><head>\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset_label(encoding)}">\n'
        f"<title>{escape(title)}</title>\n{tags}</head>\n"
    )


def _paragraphs(texts: Sequence[str]) -> str:
    return "".join(f"<p>{escape(t)}</p>\n" for t in texts)


def _attachment(report: Report) -> str:
    if not report.attachment:
        return ""
    name = escape(f"{report.title}统计表.pdf")
    return f'<p>附件：<a href="{escape(report.attachment)}" target="_blank">{name}</a></p>\n'


def _crumbs(portal: Portal, trail: Sequence[str]) -> str:
    links = ['<a href="/">首页</a>']
    for item in trail:
        href = portal.column_path if item == portal.column_name else "javascript:void(0)"
        links.append(f'<a href="{href}">{escape(item)}</a>')
    return " &gt; ".join(links)


def _pubtime(report: Report, sep: str) -> str:
    return report.published_at.replace("T", sep)


def _table_rows(report: Report) -> list[tuple[str, str]]:
    written = report.written_date or ""
    if report.year <= 2018:
        return [
            ("索 引 号", report.index_no or ""),
            ("发布机构", report.publisher_label or ""),
            ("公开方式", "主动公开"),
            ("发文日期", written),
            ("组配分类", "政府信息公开工作报告"),
            ("文件编号", ""),
        ]
    return [
        ("索引号", report.index_no or ""),
        ("发布机构", report.publisher_label or ""),
        ("成文日期", written),
        ("公开方式", "主动公开"),
        ("主题分类", "政府信息公开年报"),
        ("文号", ""),
    ]


def _meta_table(report: Report) -> str:
    cells = [
        f'<td class="label">{lab}：</td><td>{escape(val)}</td>' for lab, val in _table_rows(report)
    ]
    rows = "".join(f"<tr>{cells[i]}{cells[i + 1]}</tr>\n" for i in range(0, len(cells), 2))
    info = (
        f"发布时间:{_pubtime(report, '&nbsp;&nbsp;')} 来源:{escape(report.source or '')} "
        '浏览次数:<span id="pv"></span> <a href="javascript:window.print()">打印</a>'
    )
    return (
        f'<table class="xxgk_table" width="100%">\n{rows}</table>\n'
        f'<div class="title"><h1>{escape(report.title)}</h1></div>\n<div class="info">{info}</div>\n'
    )


def _meta_inline(report: Report) -> str:
    # Taizhou prints the time as "08: 52", with a space after the colon (seed 003).
    when = _pubtime(report, " ").replace(":", ": ")
    return (
        '<div class="xxgk_top">\n'
        f"<p>索引号: {escape(report.index_no or '')} 公开方式: 主动公开</p>\n"
        f"<p>发布机构: {escape(report.publisher_label or '')} 成文日期: {report.written_date or ''}</p>\n"
        f'</div>\n<div class="title">{escape(report.title)}</div>\n'
        f'<div class="info">信息来源: {escape(report.source or "")} 发布时间: {when} 浏览次数: </div>\n'
    )


def _xxgk_table(report: Report) -> str:
    # 浙江省教育厅's 2024 article (tests/pages/hanweb-zj-jyt-article.html): label and value in one
    # cell, three cells a row, an empty 文件编号 kept as the label alone.
    cells = [
        ("索引号", report.index_no or ""),
        ("文件编号", ""),
        ("发布机构", report.publisher_label or ""),
        ("生成日期", report.written_date or ""),
        ("主题分类", "政府信息公开年报"),
        ("公开方式", "主动公开"),
    ]
    rows = [cells[:3], cells[3:]]
    body = "".join(
        "\t\t<tr>\n"
        + "".join(f"\t\t\t<td>{lab}: {escape(val)}</td>\n" for lab, val in row)
        + "\t\t</tr>\n"
        for row in rows
    )
    return (
        '\t<table border=\'1\' width=\'1000px\' align="center" cellpadding="0" cellspacing="0" '
        f'class="xxgk">\n{body}\t</table>\n'
    )


def _zj_crumbs(portal: Portal, trail: Sequence[str]) -> str:
    cells = "".join(
        f'<TD> > <a href="{portal.column_path if item == portal.column_name else "javascript:void(0)"}">'
        f"{escape(item)}</a></TD>"
        for item in trail
    )
    return (
        '<table cellspacing="0" cellpadding="0" border="0"><tr><td> 当前位置：<a href="/index.html" >'
        "首页</a></td><td><TABLE WIDTH=100% CELLSPACING=0 CELLPADDING=0 BORDER=0>\n"
        f"<TR>\n{cells}\n</TR></TABLE></td></tr></table>"
    )


def zj_article_page(
    portal: Portal, report: Report, trail: Sequence[str], body: Sequence[str]
) -> str:
    """An article page in the markup of 浙江省教育厅's (tests/pages/hanweb-zj-jyt-article.html,
    2024): the meta set, the hidden column trail, the breadcrumb as nested tables, the xxgk
    table, the title and the date/source cells in table#c, the body in div#zoom between the
    ZJEG_RSS markers, the visit counter's iframe. Two departures: the charset is declared as
    江苏's Hanweb page does (http-equiv), and where the real page prints 发布日期 with the date
    alone this one prints 桐乡's 发布时间 with the time (the time is the ground truth)."""
    docid = report.url.rsplit("_", 1)[-1].split(".")[0]
    when = _pubtime(report, " ")
    metas = [
        ("SiteName", portal.site_name),
        ("ColumnName", portal.column_name),
        ("ColumnType", "信息公开"),
        ("ArticleTitle", report.title),
        ("PubDate", when),
        ("ContentSource", report.source or ""),
    ]
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n\n<head>\n'
        # The charset as 江苏's Hanweb page declares it (tests/pages/hanweb-jiangsu-article.html).
        '<meta http-equiv="Content-Type" '
        f'content="text/html; charset={charset_label(report.encoding)}" />\n'
        f"    <title>{escape(report.title)}</title>\n"
        f"<meta name='Maketime' content='{when}:00_000'>\n"
        + "".join(f'<meta name="{n}" content="{escape(v)}">\n' for n, v in metas)
        + "</head>\n\n"
    )
    hidden = (
        "<body><div id='hiddenLocation' style='display:none;'>"
        f"<span id='ss_webid'>{portal.webid}</span><span id='col1_name'>{escape(portal.column_name)}"
        f"</span><span id='col1_url'>{portal.column_path}</span></div>\n"
    )
    position = (
        '    <div class="current-position">\n        <div class="current-content">\n'
        f'            <span style="padding-left: 25px; float:left">\n{_zj_crumbs(portal, trail)}\n'
        "            </span>\n        </div>\n    </div>\n\n"
    )
    title = (
        '<table width=\'100%\' border="0" align=\'center\' cellpadding="0" cellspacing="1" id="c">\n'
        "    <tr>\n        <td align='center' class=title style=\"padding:0 25px;\">\n"
        f"            {escape(report.title)}\n        </td>\n    </tr>\n"
        '    <tr>\n        <td>\n            <table border=0 width=90% class=".bt_size_14">\n'
        '                <tr style="font-size:15px;">\n'
        f"                 <td width=25% align='center'>发布时间：{when} </td>\n"
        f"\t\t\t\t\t<td width=25% align='center'>来源：{escape(report.source or '')}</td>\n"
        "                    <td width=25% align='center'>浏览次数：</td>\n"
        "                </tr>\n            </table><BR>\n        </td>\n    </tr>\n"
    )
    zoom = (
        '    <tr>\n        <td class="bt_content">\n            <div id="zoom">\n'
        '                <!--ZJEG_RSS.content.begin--><meta name="ContentStart">'
        f'{_paragraphs(body)}{_attachment(report)}<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->\n'
        "            </div>\n        </td>\n    </tr>\n</table>\n"
    )
    visit = (
        "<!-- visitcount Begin --><iframe src='../../../../module/visitcount/visit.jsp?type=3"
        f"&i_webid={portal.webid}&i_columnid={portal.column_id}&i_articleid={docid}' "
        'name="vishidden" id="vishidden" frameborder="0" style="display:none"></iframe>'
        "<!-- visitcount End -->\n"
    )
    return (
        head
        + hidden
        + position
        + '    <div class="main">\n        <div class="wzy_cont" style=\'font-size:15px\'>\n'
        + _xxgk_table(report)
        + title
        + zoom
        + "        </div>\n    </div>\n"
        + visit
        + "</body>\n\n</html>\n"
    )


def article_page(portal: Portal, report: Report, trail: Sequence[str], body: Sequence[str]) -> str:
    """An article page: breadcrumb, metadata block, title, then the body in div#zoom; 桐乡's
    reports from 2019 in the markup of a real 2024 Zhejiang Hanweb article (zj_article_page)."""
    if report.layout == "table" and report.year >= 2019:
        return zj_article_page(portal, report, trail, body)
    metas = [
        ("SiteName", portal.site_name),
        ("ColumnName", portal.column_name),
        ("ArticleTitle", report.title),
        ("PubDate", _pubtime(report, " ")),
        ("ContentSource", report.source or ""),
    ]
    meta = _meta_table(report) if report.layout == "table" else _meta_inline(report)
    return (
        _head(report.title, report.encoding, metas)
        + f'<body>\n<div class="position">当前位置：{_crumbs(portal, trail)}</div>\n'
        + f'<div class="article">\n{meta}<div id="zoom">\n{_paragraphs(body)}{_attachment(report)}</div>\n'
        + '<div class="print">打印本页 关闭窗口</div>\n</div>\n</body></html>\n'
    )


def module_page(title: str, body: Sequence[str], encoding: str) -> str:
    """One unit's report for one year, as /module/xxgk/xxgkAnnualReport.jsp shows it."""
    return (
        _head(title, encoding)
        + f'<body>\n<div class="xxgk_nb">\n<div id="zoom">\n{_paragraphs(body)}</div>\n</div>\n</body></html>\n'
    )


def module_empty_page() -> str:
    """What the module answers (with 200) for a unit and year that has no report."""
    return _head("政府信息公开年度报告", "utf-8") + (
        f'<body>\n<div class="xxgk_nb"><p class="nodata">{EMPTY_MODULE_TEXT}</p></div>\n</body></html>\n'
    )


def record(report: Report) -> str:
    """One list entry, as the column page and the jpage endpoints carry it."""
    title = escape(report.title)
    return (
        f"<li><a href='{report.url}' title='{title}' target='_blank'>{title}</a>"
        f"<span>{report.published_date}</span></li>"
    )


def _recordset(records: Sequence[str]) -> str:
    rows = "".join(f"<record><![CDATA[{r}]]></record>\n" for r in records)
    return f"<recordset>\n{rows}</recordset>"


def _proxy_query(portal: Portal) -> str:
    return (
        f"appid=1&webid={portal.webid}&path=/&columnid={portal.column_id}"
        f"&unitid={portal.unit_id}&webname={quote(portal.site_name)}&permissiontype=0"
    )


def _jpage_script(portal: Portal, total: int) -> str:
    if portal.paging == "page":
        # The newer jpage reads totals from the endpoint, so the page script carries none.
        return f"$('#{portal.unit_id}').jpage({{dataUrl:'{NEWER_PROXY}',perPage:15,groupSize:3}});"
    params = (
        f"col:1,appid:1,webid:{portal.webid},path:'/',columnid:{portal.column_id},"
        f"sourceContentType:1,unitid:{portal.unit_id},webname:'{portal.site_name}',permissiontype:0"
    )
    return (
        f"$('#{portal.unit_id}').jpage({{dataUrl:'{OLDER_PROXY}',dataStore:dataStore,perPage:15,"
        f"totalRecord:{total},groupSize:3,ajaxParam:{{{params}}}}});"
    )


def column_page(portal: Portal, first: Sequence[str], total: int) -> str:
    """The 年报 column page: its first records embedded as XML, the rest left to jpage."""
    proxy = NEWER_PROXY if portal.paging == "page" else OLDER_PROXY
    nextgroup = f'<a href="{proxy}?page=1&{_proxy_query(portal)}"></a>'
    store = (
        f'<div id="{portal.unit_id}"><script type="text/xml"><datastore>\n'
        f"<nextgroup><![CDATA[{nextgroup}]]></nextgroup>\n{_recordset(first)}</datastore></script></div>\n"
    )
    return (
        _head(
            portal.column_name,
            "utf-8",
            [("SiteName", portal.site_name), ("ColumnName", portal.column_name)],
        )
        + f'<body>\n<div class="position">当前位置：{_crumbs(portal, (*portal.breadcrumb, portal.column_name))}</div>\n'
        + f'<div class="list">\n{store}</div>\n'
        + '<script type="text/javascript" src="/module/jslib/jquery/jpage/jquery.page.js"></script>\n'
        + f'<script type="text/javascript">{_jpage_script(portal, total)}</script>\n</body></html>\n'
    )


def datastore_page(records: Sequence[str], total: int, pages: int) -> str:
    """Newer jpage answer: one page of records with the totals."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
        f"<totalrecord>{total}</totalrecord>\n<totalpage>{pages}</totalpage>\n"
        f"{_recordset(records)}\n</datastore>\n"
    )


def datastore_range(records: Sequence[str]) -> str:
    """Older jpage answer: the records asked for, no totals (those are in the page script)."""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n{_recordset(records)}\n</datastore>\n'


def home_page(portal: Portal) -> str:
    return _head(portal.name, "utf-8") + (
        f"<body>\n<h1>{escape(portal.name)}</h1>\n<ul>\n"
        f'<li><a href="{portal.column_path}">{escape(portal.column_name)}</a></li>\n'
        '<li><a href="/private/drafts.html">内部草稿</a></li>\n</ul>\n</body></html>\n'
    )


def private_page() -> str:
    """Behind robots.txt's Disallow: a polite crawler never fetches it."""
    return _head("内部草稿", "utf-8") + "<body><p>内部草稿，请勿抓取。</p></body></html>\n"


def not_found_page() -> str:
    return _head("404", "utf-8") + "<body><p>对不起，您访问的页面不存在。</p></body></html>\n"
