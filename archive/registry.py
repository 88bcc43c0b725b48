"""The publisher registry: which agencies are expected to publish, and matching reports to them."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

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
    ) -> RegistryEntry | None:
        """The publisher by 发布机构, else by unit code, else by the longest name in the title."""
        if label and (found := self._by_label.get((portal, normalize_name(label)))):
            return _pick(found, year)
        if unit_code and (found := self._by_unit.get((portal, unit_code.strip().upper()))):
            return _pick(found, year)
        if title:
            return self._in_title(portal, normalize_name(title), year)
        return None

    def match_document(self, doc: Document) -> RegistryEntry | None:
        """The publisher of an archived document, from the fields its latest version set."""
        unit_code = unit_code_of(doc.index_no, doc.url)
        return self.match(doc.portal, doc.publisher_label, doc.title, unit_code, doc.report_year)

    def _in_title(self, portal: str, title: str, year: int | None) -> RegistryEntry | None:
        names = self._names.get(portal, [])
        longest = next((len(name) for name, _ in names if name in title), 0)
        found = [entry for name, entry in names if len(name) == longest and name in title]
        return _pick(found, year) if found else None


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
    existing = {(p.portal, p.name): p for p in session.scalars(select(Publisher))}
    added = [_new_publisher(spec) for key, spec in wanted.items() if key not in existing]
    session.add_all(added)
    updated = sum(_apply(existing[key], spec) for key, spec in wanted.items() if key in existing)
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


def _new_publisher(spec: PublisherSpec) -> Publisher:
    publisher = Publisher(portal=spec.portal, name=spec.name)
    _apply(publisher, spec)
    return publisher


def _apply(publisher: Publisher, spec: PublisherSpec) -> bool:
    """Copy the spec's fields onto the row; True when something changed."""
    fields = {
        "aliases": list(spec.aliases),
        "kind": spec.kind,
        "unit_code": spec.unit_code,
        "first_year": spec.first_year,
        "last_year": spec.last_year,
    }
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
