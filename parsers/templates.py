"""Which of the figures.md report shapes a text has."""

from __future__ import annotations

import re

from parsers.rules.core import (
    GOV2019_MARKERS,
    GOV2021_MARKERS,
    LOCAL_TABLE_MARKERS,
    NATIONAL2014_MIN_SECTIONS,
)
from parsers.rules.gov import GOV2021_ROWS_MARKER, GOV_ROWS_MARKER

TEMPLATES = ("gov2021", "gov2019", "national2014", "local-pre2019", "narrative")
_GOV2021 = re.compile(GOV2021_MARKERS)
_GOV2019 = re.compile(GOV2019_MARKERS)
_GOV_ROWS = re.compile(GOV_ROWS_MARKER)
_GOV2021_ROWS = re.compile(GOV2021_ROWS_MARKER)
_LOCAL = re.compile(LOCAL_TABLE_MARKERS)


def detect_template(text: str, national_sections: int) -> str:
    """The template name; `national_sections` is how many national2014 sections were read."""
    return gov_template(text) or other_template(text, national_sections)


def gov_template(text: str) -> str | None:
    """'gov2021' or 'gov2019' when the text shows those tables; decided before national2014."""
    compact = "".join(text.split())  # PDF text may break a header word over lines
    if _GOV2021.search(compact):
        return "gov2021"  # checked first: a 2021 report may quote the 2019 column names
    if _GOV2019.search(compact):
        return "gov2019"
    if _GOV_ROWS.search(compact):  # table 三 without the column headers of table 二
        return "gov2021" if _GOV2021_ROWS.search(compact) else "gov2019"
    return None


def other_template(text: str, national_sections: int) -> str:
    """The template of a text that is neither gov2019 nor gov2021."""
    if national_sections >= NATIONAL2014_MIN_SECTIONS:
        return "national2014"
    if _LOCAL.search(text):
        return "local-pre2019"
    return "narrative"
