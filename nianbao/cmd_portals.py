"""`nianbao portals check PORTAL`: does nianbao read this portal, and if not, why not."""

from __future__ import annotations

from typing import Any

import click

from crawler.job import CrawlJob
from crawler.probe import QUOTAS, ProbeFailed, run_probe
from nianbao.clikit import Context, emit_json, pass_ctx
from nianbao.errors import NianbaoError


@click.group("portals")
def portals_group() -> None:
    """Commands about the portals of the settings.

    Example: nianbao portals check tongxiang
    """


@portals_group.command("check")
@click.argument("portal")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@pass_ctx
def check(obj: Context, portal: str, as_json: bool) -> None:
    """Crawl PORTAL's first listing pages (a handful of requests, politely: robots.txt, the
    delay, its hosts only; nothing archived) and print what nianbao understood: family, records
    per page, the pager, module pages, and title, year and report-or-not of a few records.
    Exits 1, saying why, when nianbao cannot read the portal.

    Example: nianbao portals check tongxiang
    """
    settings = obj.settings
    config = settings.portal(portal)
    job = CrawlJob(portal=config, crawler=settings.crawler, archive=settings.archive, publishers=())
    try:
        report = run_probe(job)
    except ProbeFailed as exc:
        raise NianbaoError(str(exc)) from None
    if as_json:
        emit_json(report)
    else:
        delay = config.download_delay
        delay = settings.crawler.download_delay if delay is None else delay
        robots = "obeyed" if settings.crawler.obey_robots_txt else "ignored"
        click.echo(f"requests: {report['requests']} (robots.txt {robots}, delay {delay:g} s)")
        for line in describe(report):
            click.echo(line)
    if not report["readable"]:
        raise NianbaoError(f"{portal}: nianbao cannot read it: {report['why']}")


def describe(report: dict[str, Any]) -> list[str]:
    """The report as lines for people."""
    verdict = "nianbao reads it" if report["readable"] else f"cannot read: {report['why']}"
    base = report["base_url"].rstrip("/")
    lines = [f"{report['portal']} ({report['family']}, {base}): {verdict}"]
    if report["listings"]:
        lines.append("listing pages:")
        lines += [
            f"  {page['status']} {page['outcome']}: {page['records']} new records, asks for "
            f"{page['next_pages']} more listing pages  {_path(page['url'], base)}" + _finding(page)
            for page in report["listings"]
        ]
    pager = report["pager"]
    if pager is not None and any(page["records"] for page in report["listings"]):
        pages = "page count not told" if pager["pages"] is None else f"{pager['pages']} pages"
        lines.append(f"pager: {pages}; {pager['how']}")
    for key, name in (("modules", "module pages"), ("records", "records")):
        if report[key]:
            lines.append(f"{name} (title, year, report?):")
            lines += [_record(r, base) for r in report[key]]
    lines += [f"error: {error}" for error in report["errors"] if error not in report["why"]]
    left = {kind: n for kind, n in report["left"].items() if n}
    if left:
        names = {"listing": "listing pages", "article": "records", "module": "module pages"}
        parts = [f"{n} {names.get(kind, kind + 's')}" for kind, n in left.items()]
        lines.append(f"not fetched (a check asks for at most {_quotas()}): " + ", ".join(parts))
    if report["robots_denied"] or report["offsite_refused"]:
        lines.append(
            f"refused: {report['robots_denied']} by robots.txt, "
            f"{report['offsite_refused']} on other hosts"
        )
    return lines


def _record(record: dict[str, Any], base: str) -> str:
    where = _path(record["url"], base)
    if record["outcome"] != "ok":
        return f"  {record['status']} {record['outcome']}{_finding(record)}  {where}"
    if record.get("error"):
        return f"  unreadable: {record['error']}  {where}"
    year = record["year"] or "no year"
    kind = "report" if record["is_report"] else "not a report"
    return f"  {record['title'] or '(no title)'} | {year} | {kind}  {where}"


def _path(url: str, base: str) -> str:
    """A URL on the portal's own host as its path; elsewhere in full."""
    return url[len(base) :] or "/" if url.startswith(base + "/") or url == base else url


def _finding(page: dict[str, Any]) -> str:
    return f" ({page['finding']})" if page.get("finding") else ""


def _quotas() -> str:
    return ", ".join(f"{n} {kind}" for kind, n in QUOTAS.items() if n)
