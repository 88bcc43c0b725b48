"""settings.toml text that points nianbao at running replica portals (interface.md format)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from replica.families import truth_for
from replica.records import MODULE_PATH, Portal, Publisher

_FIXED = """\
[crawler]
user_agent = "nianbao (+https://example.org/contact)"
download_delay = 0
obey_robots_txt = true
retry_backoff_seconds = 0.1

[scheduler]
nightly = "30 2 * * *"
timezone = "Asia/Shanghai"
jitter_seconds = 600

[deadlines]
before_2019 = { all = "03-31" }
from_2019 = { department = "01-31", township = "01-31", government = "03-31" }
"""


def _s(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \\uXXXX included).
    return json.dumps(value, ensure_ascii=False)


def _list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


# How the generic family finds the replica's generic portal (kaihua): settings, not code.
GENERIC_ROWS = {
    "record_selector": "ul.xxgk-list a",
    "article_pattern": r"/content/\d{4}-\d{2}/\d{2}/content_\d+\.shtml$",
    "next_page_pattern": r"/list_\d+\.shtml$",
}
# kaihua links a file over this limit (replica/faults.py BIG_FILE_BYTES).
GENERIC_MAX_FILE_MB = 1


def _portal(portal: Portal, base_url: str, years: str) -> str:
    module = (
        f"{{ path = {_s(MODULE_PATH)}, areas = {_list(portal.module_areas)}, years = {_s(years)} }}"
    )
    extra = ""
    if portal.family == "generic":
        extra = "".join(f"{key} = {_s(value)}\n" for key, value in GENERIC_ROWS.items())
        extra += f"max_file_mb = {GENERIC_MAX_FILE_MB}\n"
    return (
        f"[[portals]]\nid = {_s(portal.id)}\nname = {_s(portal.name)}\nfamily = {_s(portal.family)}\n"
        f"base_url = {_s(base_url.rstrip('/'))}\nentry_points = {_list([portal.column_path])}\n"
        + (f"annual_report = {module}\n" if portal.module_areas else "")
        + extra
    )


def _publisher(pub: Publisher, first: int, last: int) -> str:
    lines = [
        "[[publishers]]",
        f"portal = {_s(pub.portal)}",
        f"name = {_s(pub.name)}",
        f"aliases = {_list(pub.aliases)}",
        f"kind = {_s(pub.kind)}",
    ]
    if pub.unit_code:
        lines.append(f"unit_code = {_s(pub.unit_code)}")
    # Only a publisher that did not exist over the whole span carries `years`.
    if pub.years != (first, last):
        lines.append(f'years = "{pub.years[0]}-{pub.years[1]}"')
    return "\n".join(lines) + "\n"


def settings_for(
    urls: Mapping[str, str],
    database_url: str = "sqlite:///data/nianbao.db",
    blob_dir: str = "data/blobs",
) -> str:
    """A complete settings.toml for the portals in `urls` (portal id -> base URL), archiving
    into `database_url` and `blob_dir`."""
    if not urls:
        raise ValueError("settings_for needs the URL of at least one replica portal")
    archive = f"[archive]\ndatabase_url = {_s(database_url)}\nblob_dir = {_s(blob_dir)}\n"
    parts = [archive, _FIXED]
    publishers = []
    for pid, url in urls.items():
        truth = truth_for(pid)
        parts.append(_portal(truth.portal(pid), url, f"{truth.first_year}-{truth.last_year}"))
        publishers += [
            _publisher(pub, truth.first_year, truth.last_year) for pub in truth.publishers_of(pid)
        ]
    parts += publishers
    return "\n".join(parts)
