"""The publisher registry: which agencies are expected to publish, and matching reports to them."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.db import insert_if_absent
from archive.models import PUBLISHER_KINDS, Document, Publisher

# Brackets are dropped, not just unified: pages write 商务局（粮食局）, 商务局(粮食局) and 商务局粮食局.
_DROP = str.maketrans("", "", "()[]{}<>【】〔〕〈〉《》「」『』")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PublisherSpec:
    """One `[[publishers]]` entry of the settings."""

    portal: str
    name: str
    aliases: tuple[str, ...]
    kind: str
    unit_code: str | None = None
    first_year: int | None = None
    last_year: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in PUBLISHER_KINDS:
            raise ValueError(
                f"publisher {self.name!r}: kind {self.kind!r} is not one of {', '.join(PUBLISHER_KINDS)}"
            )
        if self.first_year and self.last_year and self.first_year > self.last_year:
            raise ValueError(f"publisher {self.name!r}: first_year is after last_year")


@dataclass(frozen=True)
class RegistryEntry:
    """A registered publisher as stored, with its row id."""

    id: int
    portal: str
    name: str
    aliases: tuple[str, ...]
    kind: str
    unit_code: str | None
    first_year: int | None
    last_year: int | None

    def existed_in(self, year: int | None) -> bool:
        if year is None:
            return True
        return (self.first_year or year) <= year <= (self.last_year or year)


@dataclass(frozen=True)
class Match:
    """A registered publisher and how a report was matched to it: by its `subject` (whose report
    its title or opening says it is), its registered `name` or an `alias` in its 发布机构, its
    `unit_code`, or a name found in its `title`; `text` is what matched."""

    entry: RegistryEntry
    by: str
    text: str

    def explain(self) -> str:
        if self.by == "unit_code":
            return f"unit code {self.text}"
        if self.by == "title":
            return f"{self.text!r} found in its title"
        if self.by == "subject":
            return f"its subject {self.text!r} (whose report its title or opening names)"
        return f"{self.by} {self.text!r} in its 发布机构"


@dataclass(frozen=True)
class SyncResult:
    added: int
    updated: int
    removed: int


def normalize_name(text: str) -> str:
    """Full/half width, whitespace and brackets folded away, for comparing agency names."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).translate(_DROP)


def unit_code_of(index_no: str | None, url: str | None) -> str | None:
    """The unit code a page carries: the 索引号 prefix, else the `area=` of a report-module URL."""
    if index_no and "/" in index_no:
        return index_no.split("/", 1)[0].strip().upper() or None
    if url:
        area = parse_qs(urlsplit(url).query).get("area")
        if area and area[0].strip():
            return area[0].strip().upper()
    return None


class PublisherRegistry:
    """The registry loaded once, so indexing many captures does not query it per page."""

    def __init__(self, entries: Iterable[RegistryEntry]) -> None:
        self._by_label: dict[tuple[str, str], list[RegistryEntry]] = defaultdict(list)
        self._by_unit: dict[tuple[str, str], list[RegistryEntry]] = defaultdict(list)
        self._names: dict[str, list[tuple[str, RegistryEntry]]] = defaultdict(list)
        for entry in entries:
            self._add(entry)
        for names in self._names.values():
            names.sort(key=lambda pair: -len(pair[0]))

    def _add(self, entry: RegistryEntry) -> None:
        for name in {normalize_name(n) for n in (entry.name, *entry.aliases)} - {""}:
            self._by_label[(entry.portal, name)].append(entry)
            self._names[entry.portal].append((name, entry))
        if entry.unit_code:
            self._by_unit[(entry.portal, entry.unit_code.strip().upper())].append(entry)

    @classmethod
    def load(cls, session: Session, portal: str | None = None) -> PublisherRegistry:
        stmt = select(Publisher).order_by(Publisher.id)
        if portal is not None:
            stmt = stmt.where(Publisher.portal == portal)
        return cls(_entry(p) for p in session.scalars(stmt))

    def match(
        self,
        portal: str,
        label: str | None,
        title: str | None,
        unit_code: str | None,
        year: int | None = None,
        subject: str | None = None,
    ) -> RegistryEntry | None:
        """The publisher by subject, else by 发布机构, else by unit code, else by the longest
        name in the title."""
        found = self.explain(portal, label, title, unit_code, year, subject)
        return found.entry if found else None

    def explain(
        self,
        portal: str,
        label: str | None,
        title: str | None,
        unit_code: str | None,
        year: int | None = None,
        subject: str | None = None,
    ) -> Match | None:
        """`match`, saying how: by the subject, the 发布机构 (name or alias), the unit code, or
        the title. The subject comes first: an office posts its government's report, and the
        发布机构 then names the office (issue 13)."""
        by_label = self._by_label_match(portal, label, year)
        if subject and (found := self._by_subject(portal, subject)):
            entry = _pick(found, year)
            # The same publisher either way: said by its 发布机构, as before subjects.
            if by_label is None or by_label.entry != entry:
                return Match(entry, "subject", subject)
        if by_label is not None:
            return by_label
        code = unit_code.strip().upper() if unit_code else None
        if code and (found := self._by_unit.get((portal, code))):
            return Match(_pick(found, year), "unit_code", code)
        if title:
            return self._in_title(portal, normalize_name(title), year)
        return None

    def _by_label_match(self, portal: str, label: str | None, year: int | None) -> Match | None:
        if not label or not (found := self._by_label.get((portal, normalize_name(label)))):
            return None
        entry = _pick(found, year)
        by = "name" if normalize_name(entry.name) == normalize_name(label) else "alias"
        return Match(entry, by, label)

    def _by_subject(self, portal: str, subject: str) -> list[RegistryEntry] | None:
        """The entries named like the subject; '桐乡市' and '桐乡市人民政府' are one government."""
        name = normalize_name(subject)
        bare = name.removesuffix("人民政府")
        for key in dict.fromkeys((name, bare, bare + "人民政府")):
            if len(key) >= 2 and (found := self._by_label.get((portal, key))):
                return found
        return None

    def match_document(self, doc: Document) -> RegistryEntry | None:
        """The publisher of an archived document, from the fields its latest version set."""
        found = self.explain_document(doc)
        return found.entry if found else None

    def explain_document(self, doc: Document) -> Match | None:
        unit_code = unit_code_of(doc.index_no, doc.url)
        return self.explain(
            doc.portal, doc.publisher_label, doc.title, unit_code, doc.report_year, doc.subject
        )

    def knows_label(self, portal: str, label: str) -> bool:
        """Whether a 发布机构 is a registered name or alias of this portal."""
        return (portal, normalize_name(label)) in self._by_label

    def _in_title(self, portal: str, title: str, year: int | None) -> Match | None:
        names = self._names.get(portal, [])
        longest = next((len(name) for name, _ in names if name in title), 0)
        found = [(n, entry) for n, entry in names if len(n) == longest and n in title]
        if not found:
            return None
        entry = _pick([e for _, e in found], year)
        return Match(entry, "title", next(n for n, e in found if e is entry))


def _pick(candidates: Sequence[RegistryEntry], year: int | None) -> RegistryEntry:
    # Agencies merge and split: when a name is shared, prefer the one that existed that year.
    return next((c for c in candidates if c.existed_in(year)), candidates[0])


def match_publisher(
    source: Session | PublisherRegistry,
    portal: str,
    label: str | None,
    title: str | None,
    unit_code: str | None,
    year: int | None = None,
) -> RegistryEntry | None:
    """Match a report to a registered publisher of the same portal (see `PublisherRegistry.match`)."""
    registry = (
        source if isinstance(source, PublisherRegistry) else PublisherRegistry.load(source, portal)
    )
    return registry.match(portal, label, title, unit_code, year)


def sync_publishers(session: Session, specs: Iterable[PublisherSpec]) -> SyncResult:
    """Make the registry equal to `specs`; re-match the documents when anything changed."""
    wanted = {(s.portal, s.name): s for s in specs}
    if _up_to_date(session, wanted):
        return SyncResult(
            added=0, updated=0, removed=0
        )  # writes nothing: a read-only archive reads
    # Insert skipping rows already there: two crawls starting on a fresh archive both sync the
    # registry, and a plain insert would have the second fail on (portal, name).
    added = [spec for spec in wanted.values() if insert_if_absent(session, Publisher, _row(spec))]
    existing = {(p.portal, p.name): p for p in session.scalars(select(Publisher))}
    updated = sum(_apply(existing[key], spec) for key, spec in wanted.items())
    gone = [p for key, p in existing.items() if key not in wanted]
    _remove(session, gone)
    session.flush()
    if added or updated or gone:
        rematch_documents(session)
    return SyncResult(added=len(added), updated=updated, removed=len(gone))


def rematch_documents(session: Session, portal: str | None = None) -> int:
    """Recompute every document's publisher from its stored fields; returns how many changed."""
    registry = PublisherRegistry.load(session, portal)
    stmt = select(Document)
    if portal is not None:
        stmt = stmt.where(Document.portal == portal)
    changed = 0
    for doc in session.scalars(stmt):
        entry = registry.match_document(doc)
        new_id = entry.id if entry else None
        if doc.publisher_id != new_id:
            doc.publisher_id = new_id
            changed += 1
    session.flush()
    return changed


def _fields(spec: PublisherSpec) -> dict[str, Any]:
    return {
        "aliases": list(spec.aliases),
        "kind": spec.kind,
        "unit_code": spec.unit_code,
        "first_year": spec.first_year,
        "last_year": spec.last_year,
    }


def _up_to_date(session: Session, wanted: dict[tuple[str, str], PublisherSpec]) -> bool:
    rows = {(p.portal, p.name): p for p in session.scalars(select(Publisher))}
    if rows.keys() != wanted.keys():
        return False
    return all(
        getattr(rows[key], name) == value
        for key, spec in wanted.items()
        for name, value in _fields(spec).items()
    )


def _row(spec: PublisherSpec) -> dict[str, Any]:
    return {"portal": spec.portal, "name": spec.name, **_fields(spec)}


def _apply(publisher: Publisher, spec: PublisherSpec) -> bool:
    """Copy the spec's fields onto the row; True when something changed."""
    fields = _fields(spec)
    changed = any(getattr(publisher, k, None) != v for k, v in fields.items())
    for key, value in fields.items():
        setattr(publisher, key, value)
    return changed


def _remove(session: Session, gone: Sequence[Publisher]) -> None:
    if not gone:
        return
    ids = [p.id for p in gone]
    session.execute(
        update(Document).where(Document.publisher_id.in_(ids)).values(publisher_id=None)
    )
    for publisher in gone:
        session.delete(publisher)


def _entry(p: Publisher) -> RegistryEntry:
    return RegistryEntry(
        id=p.id,
        portal=p.portal,
        name=p.name,
        aliases=tuple(p.aliases or ()),
        kind=p.kind,
        unit_code=p.unit_code,
        first_year=p.first_year,
        last_year=p.last_year,
    )


def registry_in_sync(session: Session, specs: Iterable[PublisherSpec]) -> bool:
    """Whether the registry already equals `specs`; reads only (a read command's check)."""
    return _up_to_date(session, {(s.portal, s.name): s for s in specs})
