"""Where each family keeps its pages, and the fault columns of a plan row (data/families.toml).

Imported by replica/plan.py, so it depends on the record types only.
"""

from __future__ import annotations

from typing import Any

from replica.records import Portal

FAULTS = ("flaky", "slow", "challenge", "wzws", "deleted")
FILE_KINDS = ("pdf", "docx", "xlsx", "doc", "xls", "fakepdf", "bigpdf")


def article_path(portal: Portal, published: str, docid: int) -> str:
    """An article's path as its family's CMS forms it from the publication date and doc id."""
    y, m, d = published[:10].split("-")
    if portal.family == "trs":
        return f"{portal.list_path}{y}{m}/t{y}{m}{d}_{docid}.htm"
    if portal.family == "generic":
        return f"{portal.list_path}content/{y}-{m}/{d}/content_{docid}.shtml"
    return f"/art/{int(y)}/{int(m)}/{int(d)}/art_{portal.column_id}_{docid}.html"


def fault_fields(cfg: dict[str, Any], row: dict[str, Any], encoding: str) -> dict[str, Any]:
    """A report row's faults, files and Content-Type charset (families.toml's extra keys)."""
    fault = row.get("fault")
    files = tuple(row.get("files", ()))
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
    if unknown := set(files) - set(FILE_KINDS):
        raise ValueError(f"unknown file kinds {sorted(unknown)} (known: {', '.join(FILE_KINDS)})")
    default = cfg.get("gbk_charset_header") if encoding == "gbk" else None
    return {"fault": fault, "files": files, "charset_header": row.get("charset_header", default)}
