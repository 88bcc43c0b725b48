"""The national benchmark's replica (replica/national.py, bench/national_bench.py): one process
serving each portal on its own loopback address, with the replica's own pages, validators and a
latency; so that the benchmark cannot rot silently."""

from __future__ import annotations

import json
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replica_fixtures import national_process

from nianbao.settings import parse_settings
from replica import national, settings_for
from replica.site import Site

LATENCY = (0.05, 0.06)


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with national_process(3, LATENCY) as found:
        yield found


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(), refused.headers


def test_each_portal_has_its_own_address_on_one_port(urls: dict[str, str]) -> None:
    assert list(urls) == ["n0000", "n0001", "n0002"]
    hosts = [url.removeprefix("http://").split(":") for url in urls.values()]
    assert [h for h, _port in hosts] == ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
    assert len({port for _h, port in hosts}) == 1


def test_portals_serve_the_replicas_own_pages(urls: dict[str, str]) -> None:
    national.register(3)
    for pid, url in urls.items():
        site = Site(pid)
        assert len(site.docs) == 60
        first = sorted(site.docs)[0]
        status, body, headers = get(url + first)
        assert (status, body) == (200, site.document(first).body)
        assert headers["ETag"] == site.document(first).etag
        status, body, _ = get(url + site.portal.column_path)
        assert (status, body) == (200, site.list_page(0).body)
    # Each address is its own portal: a page of one is not found on another.
    trs_page = sorted(Site("n0001").docs)[0]
    assert get(urls["n0000"] + trs_page)[0] == 404


def test_listings_page_through_all_60_reports(urls: dict[str, str]) -> None:
    hanweb, trs = Site("n0000"), Site("n0001")
    proxy = f"{urls['n0000']}/module/web/jpage/dataproxy.jsp?page=4&columnid={hanweb.portal.column_id}&unitid={hanweb.portal.unit_id}"
    status, body, _ = get(proxy)
    assert (
        status == 200 and b"<totalrecord>60</totalrecord>" in body and body.count(b"<record>") == 15
    )
    status, body, _ = get(urls["n0001"] + "/zfxxgknb/index_2.html")
    assert (status, body) == (200, trs.list_page(2).body)
    assert get(urls["n0001"] + "/zfxxgknb/index_3.html")[0] == 404


def test_known_pages_answer_304_after_the_latency(urls: dict[str, str]) -> None:
    url = urls["n0002"] + sorted(Site("n0002").docs)[-1]
    status, _body, headers = get(url)
    started = time.perf_counter()
    again = get(url, {"If-None-Match": headers["ETag"]})
    assert again[0] == 304 and again[1] == b""
    assert time.perf_counter() - started >= LATENCY[0]
    stats = json.loads(get(urls["n0000"] + "/__replica__/stats")[1])
    assert stats["per_host"]["127.0.1.3"] >= 2 and stats["statuses"]["304"] >= 1
    assert LATENCY[0] <= stats["mean_latency"] <= LATENCY[1]


def test_settings_for_the_generated_portals_parse() -> None:
    ids = national.register(2)
    text = settings_for({pid: f"http://{national.address(n)}:8080" for n, pid in enumerate(ids)})
    settings = parse_settings(tomllib.loads(text), Path("settings.toml"))
    assert [p.family for p in settings.portals] == ["hanweb", "trs"]
    assert len([p for p in settings.publishers if p.portal == "n0001"]) == national.DEPARTMENTS
