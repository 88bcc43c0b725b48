"""Which of the figures.md report shapes a text has."""

from __future__ import annotations

import re

from parsers.rules import (
    GOV2019_MARKERS,
    GOV2021_MARKERS,
    LOCAL_TABLE_MARKERS,
    NATIONAL2014_MIN_SECTIONS,
)

TEMPLATES = ("gov2021", "gov2019", "national2014", "local-pre2019", "narrative")


def detect_template(text: str, national_sections: int) -> str:
    """The template name; `national_sections` is how many national2014 sections were read."""
    if re.search(GOV2021_MARKERS, text):
        return "gov2021"  # checked first: a 2021 report may quote the 2019 column names
    if re.search(GOV2019_MARKERS, text):
        return "gov2019"
    if national_sections >= NATIONAL2014_MIN_SECTIONS:
        return "national2014"
    if re.search(LOCAL_TABLE_MARKERS, text):
        return "local-pre2019"
    return "narrative"
