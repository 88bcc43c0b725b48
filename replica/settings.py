"""settings.toml text that points nianbao at running replica portals (interface.md format)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from replica.records import MODULE_PATH, Portal, Publisher
from replica.truth import load_truth

_FIXED = """\
[crawler]
user_agent = "nianbao (+https://example.org/contact)"
download_delay = 0
obey_robots_txt = true

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


def _portal(portal: Portal, base_url: str, years: str) -> str:
    module = (
        f"{{ path = {_s(MODULE_PATH)}, areas = {_list(portal.module_areas)}, years = {_s(years)} }}"
    )
    return (
        f'[[portals]]\nid = {_s(portal.id)}\nname = {_s(portal.name)}\nfamily = "hanweb"\n'
        f"base_url = {_s(base_url.rstrip('/'))}\nentry_points = {_list([portal.column_path])}\n"
        + (f"annual_report = {module}\n" if portal.module_areas else "")
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
    truth = load_truth()
    portals = [truth.portal(pid) for pid in urls]
    if not portals:
        raise ValueError("settings_for needs the URL of at least one replica portal")
    years = f"{truth.first_year}-{truth.last_year}"
    archive = f"[archive]\ndatabase_url = {_s(database_url)}\nblob_dir = {_s(blob_dir)}\n"
    parts = [archive, _FIXED]
    parts += [_portal(p, urls[p.id], years) for p in portals]
    parts += [
        _publisher(pub, truth.first_year, truth.last_year)
        for p in portals
        for pub in truth.publishers_of(p.id)
    ]
    return "\n".join(parts)
