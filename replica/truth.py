"""The ground truth of the replica portals, for the tests and the demo.

Example: ``load_truth().expected_late(2019)`` is ``{("tongxiang", "桐乡市经济和信息化局"): 1}``.

The environment variable ``REPLICA_AS_OF`` ('YYYY-MM-DDTHH:MM', Asia/Shanghai) turns back the clock
of a replica process: ``REPLICA_AS_OF=2020-01-25T10:00 python -m replica serve`` serves the portals
as they stood then, with only the pages online by that moment (``Truth.as_of``). Tests use it to
crawl the past; the truth a test compares against is always the whole one (they set no variable).
"""

from __future__ import annotations

import os
import re
from functools import cache

from replica.plan import PlanError, build_truth, load_plan
from replica.records import Key, Portal, Publisher, Report, Truth

__all__ = ["AS_OF_ENV", "Key", "Portal", "Publisher", "Report", "Truth", "load_truth"]

AS_OF_ENV = "REPLICA_AS_OF"
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@cache
def load_truth() -> Truth:
    """The truth as data/plan.toml states it (loaded once per process), as of `REPLICA_AS_OF`."""
    truth = build_truth(load_plan())
    moment = os.environ.get(AS_OF_ENV, "").strip()
    if not moment:
        return truth
    if not _MOMENT.fullmatch(moment):
        raise PlanError(f"{AS_OF_ENV}={moment!r}: expected a moment like 2020-01-25T10:00")
    return truth.as_of(moment)
