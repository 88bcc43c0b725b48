"""Zip bombs in DOCX and XLSX: sizes checked in the zip directory, then the bytes really inflated.

python-docx and openpyxl inflate whatever a file holds (an 828 KB DOCX once took more than 300 s
and 4.8 GB). Before they see it, every member is inflated here in bounded chunks and counted:
the directory's sizes can lie, the deflate stream cannot. Limits: rules/limits.py.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from parsers.errors import CorruptFile, LimitExceeded
from parsers.rules.limits import (
    MAX_ZIP_INFLATED_BYTES,
    MAX_ZIP_MEMBERS,
    MAX_ZIP_SHEETS_BYTES,
    MAX_ZIP_XML_BYTES,
    ZIP_READ_CHUNK,
)

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_MAGIC = 0x04034B50
_STORED, _DEFLATED = 0, 8
_INPUT_SLICE = 1 << 16


def check_zip(raw: bytes, kind: str) -> None:
    """Refuse (LimitExceeded) a zip that declares or inflates past the limits; CorruptFile if the
    directory or a member's stream is broken or lies about its size."""
    infos = _directory(raw, kind)
    if len(infos) > MAX_ZIP_MEMBERS:
        raise LimitExceeded(kind, len(infos), "zip members", MAX_ZIP_MEMBERS, "MAX_ZIP_MEMBERS")
    _refuse_sizes(kind, [(i.filename, i.file_size) for i in infos], "declared")
    inflated: list[tuple[str, int]] = []
    for info in infos:
        # Counted just past the smallest limit it could break, then checked with the others.
        total, sheets, xml = _used(inflated)
        cap = MAX_ZIP_INFLATED_BYTES - total
        if _is_sheet(info.filename):
            cap = min(cap, MAX_ZIP_SHEETS_BYTES - sheets)
        elif _loaded_whole(info.filename):
            cap = min(cap, MAX_ZIP_XML_BYTES - xml)
        size = _inflated_size(raw, info, kind, cap)
        inflated.append((info.filename, size))
        _refuse_sizes(kind, inflated, "inflated")
        if size != info.file_size:
            raise CorruptFile(f"{kind} ({info.filename} inflates to another size than declared)")


def _directory(raw: bytes, kind: str) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise CorruptFile(kind) from exc


def _refuse_sizes(kind: str, sizes: list[tuple[str, int]], how: str) -> None:
    """The XML parts loaded whole within MAX_ZIP_XML_BYTES, the worksheets within
    MAX_ZIP_SHEETS_BYTES, everything within MAX_ZIP_INFLATED_BYTES (all together)."""
    total, sheets, xml = _used(sizes)
    for amount, limit, name, where in (
        (xml, MAX_ZIP_XML_BYTES, "MAX_ZIP_XML_BYTES", " in XML parts"),
        (sheets, MAX_ZIP_SHEETS_BYTES, "MAX_ZIP_SHEETS_BYTES", " in worksheets"),
        (total, MAX_ZIP_INFLATED_BYTES, "MAX_ZIP_INFLATED_BYTES", ""),
    ):
        if amount > limit:
            largest = max(sizes, key=lambda item: item[1])[0]
            unit = f"bytes {how}{where} (largest {largest})"
            raise LimitExceeded(kind, amount, unit, limit, name)


def _used(sizes: list[tuple[str, int]]) -> tuple[int, int, int]:
    """(all bytes, worksheet bytes, bytes of XML parts loaded whole)."""
    return (
        sum(s for _, s in sizes),
        sum(s for n, s in sizes if _is_sheet(n)),
        sum(s for n, s in sizes if _loaded_whole(n)),
    )


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _loaded_whole(name: str) -> bool:
    # Worksheets are streamed (openpyxl read_only); every other XML part is parsed whole.
    return name.endswith((".xml", ".rels")) and not _is_sheet(name)


def _inflated_size(raw: bytes, info: zipfile.ZipInfo, kind: str, budget: int) -> int:
    """The bytes the member's stream inflates to, counted until past `budget` (then partial)."""
    data = _member_data(raw, info, kind)
    if info.compress_type == _STORED:
        return len(data)
    if info.compress_type != _DEFLATED:
        raise CorruptFile(f"{kind} (compression method {info.compress_type})")
    inflater, size = zlib.decompressobj(-15), 0
    try:
        # Input in slices, output in chunks: neither the input nor the output is copied whole.
        for at in range(0, len(data), _INPUT_SLICE):
            pending = bytes(data[at : at + _INPUT_SLICE])
            while pending:
                size += len(inflater.decompress(pending, ZIP_READ_CHUNK))
                pending = inflater.unconsumed_tail
                if size > budget:
                    return size
        return size + len(inflater.flush())
    except zlib.error as exc:
        raise CorruptFile(f"{kind} ({info.filename}: {exc})") from exc


def _member_data(raw: bytes, info: zipfile.ZipInfo, kind: str) -> memoryview:
    at = info.header_offset
    header = raw[at : at + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or _LOCAL_HEADER.unpack(header)[0] != _LOCAL_MAGIC:
        raise CorruptFile(f"{kind} ({info.filename}: no local header)")
    fields = _LOCAL_HEADER.unpack(header)
    start = at + _LOCAL_HEADER.size + fields[9] + fields[10]
    return memoryview(raw)[start : start + info.compress_size]
