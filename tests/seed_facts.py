"""What the real seed pages state, read by hand from tests/seeds: shared by every test of them."""

from __future__ import annotations

SEED_METADATA: dict[str, dict[str, str | None]] = {
    "002": {"published_at": "2018-03-08"},
    "003": {
        "index_no": "002668274/2018-66814",
        "publisher": "市经信委",
        "written_date": "2018-01-17",
        "published_at": "2018-01-17T08:52",
        "source": "市经信委",
        "disclosure": "主动公开",
    },
    "004": {
        "index_no": "11330483002558219A/2014-84743",
        "publisher": "市商务局",
        "written_date": "2014-03-08",
        "published_at": "2014-03-08T20:57",
        "source": "市商务局",
        "category": "政府信息公开工作报告",
        "doc_number": None,
        "disclosure": "主动公开",
    },
}
