"""The ground truth of the replica portals, for the tests and the demo.

Example: ``load_truth().expected_late(2019)`` is ``{("tongxiang", "桐乡市经济和信息化局"): 1}``.
"""

from __future__ import annotations

from functools import cache

from replica.plan import build_truth, load_plan
from replica.records import Key, Portal, Publisher, Report, Truth

__all__ = ["Key", "Portal", "Publisher", "Report", "Truth", "load_truth"]


@cache
def load_truth() -> Truth:
    """The truth as data/plan.toml states it (loaded once per process)."""
    return build_truth(load_plan())
