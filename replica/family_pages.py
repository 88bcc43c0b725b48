"""Page templates of the other families: TRS WCM lists and articles, the jpaas list unit, and a
generic site on neither CMS (the facts they follow are in docs/portals.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from replica.families import plan_for
from replica.pages import _head, _paragraphs
from replica.records import Portal, Report

JPAAS_UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"
JPAAS_TAG = "当前栏目list"


def _li(href: str, report: Report) -> str:
    title = escape(report.title)
    return f"<li><a href='{escape(href)}' title='{title}' target='_blank'>{title}</a><span>{report.published_date}</span></li>"


def trs_record(portal: Portal, report: Report) -> str:
    """A TRS list row as 邯郸's column lists it: name (the article's path relative to the column
    folder), 索引号, 发布机构, 发布日期."""
    href, title = escape("./" + report.url.removeprefix(portal.list_path)), escape(report.title)
    cells = [report.index_no or "", report.publisher_label or "", report.published_date]
    tds = "".join(f'<td height="35">{escape(c)}</td>' for c in cells)
    return (
        f'<tr>\n<td height="35"><a href="{href}" title="{title}">\n{title}\n</a></td>{tds}\n</tr>\n'
    )


def generic_record(report: Report) -> str:
    return _li(report.url, report)


# The pager of 邯郸's TRS column pages (hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/, saved 2020; corpus
# portal-html/0001.jsp): the page count and the current page are variables, the links are written
# by document.write, so no pager link is in the served HTML.
TRS_PAGER = """\
var currentPage=@CURRENT@;
var prevPage=currentPage-1
var nextPage=currentPage+1
var countPage=@COUNT@
var endPage=countPage-1
document.write("<a href=\\"index.html\\" target=\\"_self\\" >首页</a>&nbsp;&nbsp;");
if(countPage>1&&currentPage!=0&&currentPage!=1)
document.write("<a  href=\\"index"+"_"+prevPage+"."+"html\\" target=\\"_self\\">上一页</a>&nbsp;&nbsp;");
else if(countPage>1&&currentPage!=0&&currentPage==1)
document.write("<a  href=\\"index.html\\" target=\\"_self\\">上一页</a>&nbsp;&nbsp;");
else
document.write("<span class='bg'>上一页</span>&nbsp;&nbsp;");
var num=6;
var startPage=currentPage-2;
if(startPage<0)startPage=0;
var endpage=startPage+num;
if(endpage>countPage)
endpage=countPage;
startPage=endpage-6;
if(startPage<0)startPage=0;
for(var i=startPage;i<endpage;i++){
if(currentPage==i)
document.write("<span class='now'>"+(i+1)+"</span>&nbsp;&nbsp;");
else if(i==0){
document.write("<a  href=\\"index.html\\" target=\\"_self\\" class='pnum'>"+1+"</a>&nbsp;&nbsp;");
}else
document.write("<a href=\\"index"+"_"+i+"."+"html\\" target=\\"_self\\" class='pnum'>"+(i+1)+"</a>&nbsp;&nbsp;");}
if(countPage>1&&currentPage!=(countPage-1))
document.write("<a href=\\"index"+"_"+nextPage+"."+"html\\" target=\\"_self\\">下一页</a>&nbsp;&nbsp;");
else
document.write("<span class='bg'>下一页</span>&nbsp;&nbsp;");
if(countPage==1)
document.write("<a  href=\\"index.html\\" target=\\"_self\\">尾页</a>");
else if(countPage>1)
document.write("<a  href=\\"index_"+endPage+".html\\" target=\\"_self\\">尾页</a>");
"""
TRS_HEADINGS = (("47%", "名称"), ("21%", "索引号"), ("19%", "发布机构"), ("12%", "发布日期"))


def trs_pager(portal: Portal, page: int, pages: int) -> str:
    """The pager as the portal writes it: `script` (邯郸's variables), or `external` (a script
    from elsewhere fills the div, so the page itself tells no page count)."""
    if portal.paging == "external":
        return '<div class="page" id="page_div"></div><script src="/js/trs_page.js"></script>'
    script = TRS_PAGER.replace("@CURRENT@", str(page)).replace("@COUNT@", str(pages))
    return f'<div class="page">\n<script language="javascript">\n{script}\n</script></div>'


def trs_list_page(portal: Portal, records: Sequence[str], page: int, pages: int) -> str:
    """List page `page` (0-based) of a TRS column, in the markup of 邯郸's column pages: the
    records in a table, the pager script after it."""
    domain, code = _site_codes(portal)
    metas = [("SiteName", portal.site_name), ("SiteDomain", domain), ("SiteIDCode", code),
             ("ColumnName", portal.column_name), ("ColumnType", "信息公开")]  # fmt: skip
    heads = "".join(f'<th width="{w}" height="35">{n}</th>\n' for w, n in TRS_HEADINGS)
    column = escape(portal.column_name)
    return (
        _head(portal.column_name, "utf-8", metas)
        + '<body>\n<div class="sx-c2-right1">\n<div class="sx-c1-title clearFix">'
        + f'<h1>{column}</h1>\n<div class="sx-more1"><a href="/" title="首页" class="CurrChnlCls">首页</a>-&gt;'
        + f'<a href="./" title="{column}" class="CurrChnlCls">{column}</a></div>\n</div>\n'
        + '<ul class="sx-c1-list list1" style="display:block;">\n'
        + '<div class="szbmtclb fl clearfix" style="width:100%;">\n<table>\n<tbody><tr>\n'
        + heads
        + "</tr>\n"
        + "".join(records)
        + "</tbody></table>\n"
        + '<div class="news-list">\n<div class="clear"></div>\n<div class="page_box">\n'
        + trs_pager(portal, page, pages)
        + "\n</div>\n</div>\n</div>\n</ul>\n</div>\n</body></html>\n"
    )


def _site_codes(portal: Portal) -> tuple[str, str]:
    """The SiteDomain and SiteIDCode a TRS portal's head meta names (data/families.toml)."""
    cfg = plan_for(portal.id).portals[portal.id]
    return cfg["site_domain"], cfg["site_id_code"]


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
        ("SiteDomain", _site_codes(portal)[0]),
        ("SiteIDCode", _site_codes(portal)[1]),
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
