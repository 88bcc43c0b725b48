"""Hostile and junk files for the parser tests, generated (no such file is kept in the tree).

Every file here is an invented hostile input (issue 12): zip bombs in DOCX and XLSX built from
one deflate block repeated, a tiny PDF whose page tree claims a million pages, pages of deep or
huge markup. `run_isolated` parses files each in its own forked process under hard limits
(RLIMIT_AS and a wall-clock timeout) and reports each one's outcome, time and peak RSS.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
ADDRESS_SPACE_LIMIT = 512 * MIB  # RLIMIT_AS of each child: a hard ceiling, not a measurement
TIMEOUT_SECONDS = 10.0
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass(frozen=True)
class Member:
    """A zip member as it will be written: compressed bytes and what the directory declares."""

    name: str
    data: bytes  # raw deflate stream (method 8) or stored bytes (method 0)
    crc: int
    size: int  # declared inflated size
    method: int = 8


def deflated(content: bytes) -> Member:
    """An ordinary member (name set by the caller through `named`)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Member("", c.compress(content) + c.flush(), zlib.crc32(content), len(content))


def named(member: Member, name: str) -> Member:
    return Member(name, member.data, member.crc, member.size, member.method)


def _flushed(chunk: bytes) -> bytes:
    """Deflate blocks for `chunk` from a fresh state, byte-aligned: they can be concatenated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)


def bomb_member(name: str, head: bytes, unit: bytes, repeats: int, tail: bytes) -> Member:
    """head + unit * repeats + tail, deflated in O(len(unit)) time: one block repeated."""
    chunk = unit * max(1, (1 << 20) // len(unit))  # ~1 MiB of units per repeated block
    copies = max(1, repeats * len(unit) // len(chunk))
    block = _flushed(chunk)
    finish = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = _flushed(head) + block * copies + finish.compress(tail) + finish.flush()
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return Member(name, data, crc, len(head) + len(chunk) * copies + len(tail))


def write_zip(members: Sequence[Member]) -> bytes:
    """A zip file (no zip64: every member under 4 GiB) with the members as declared."""
    out, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode()
        fields = (20, 0, m.method, 0, 0x21, m.crc, len(m.data), m.size, len(name), 0)
        central += struct.pack("<IH", 0x02014B50, 20) + struct.pack("<HHHHHIIIHH", *fields)
        central += struct.pack("<HHHII", 0, 0, 0, 0, len(out)) + name
        out += struct.pack("<I", 0x04034B50) + struct.pack("<HHHHHIIIHH", *fields) + name + m.data
    offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                       offset, 0)  # fmt: skip
    return bytes(out)


def _members_of(raw: bytes, drop: Iterable[str] = ()) -> list[Member]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return [named(deflated(zf.read(i)), i.filename) for i in zf.infolist()
                if i.filename not in set(drop)]  # fmt: skip


def small_docx(
    paragraphs: Sequence[str] = ("某区人民政府2021年度政府信息公开工作年度报告",),
) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "收到申请数", "12"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def small_xlsx(rows: Sequence[Sequence[object]] = (("收到申请数", 12), ("主动公开", 3))) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    sheet.merge_cells("C1:D2")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def docx_bomb(inflated: int = 260 * MIB) -> bytes:
    """A DOCX of ~830 KB whose document.xml inflates to ~270 MB of paragraphs."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'.encode()
    unit = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    bomb = bomb_member("word/document.xml", head, unit, inflated // len(unit),
                       b"</w:body></w:document>")  # fmt: skip
    return write_zip([*_members_of(small_docx(), drop=["word/document.xml"]), bomb])


def xlsx_bomb(inflated: int = 1900 * MIB, dimension: bool = False) -> bytes:
    """An XLSX of ~5 MB whose sheet inflates to ~2 GB of one-cell rows (with or without the
    <dimension> element real files carry)."""
    unit = b'<row><c t="n"><v>1</v></c></row>'
    rows = inflated // len(unit)
    dim = f'<dimension ref="A1:A{rows}"/>' if dimension else ""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{S_NS}">{dim}<sheetData>'
    tail = b"</sheetData></worksheet>"
    members = _members_of(small_xlsx(), drop=["xl/worksheets/sheet1.xml"])
    sheet = bomb_member("xl/worksheets/sheet1.xml", head.encode(), unit, rows, tail)
    return write_zip([*members, sheet])


def many_parts_docx(part_bytes: int = 9 * MIB) -> bytes:
    """A DOCX whose styles, settings, theme, font table and web settings are ~9 MB of XML each
    (python-docx parses every part it is led to, when it opens the file)."""
    parts = ("word/styles.xml", "word/settings.xml", "word/theme/theme1.xml",
             "word/fontTable.xml", "word/webSettings.xml")  # fmt: skip
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W_NS}">'.encode()
    unit = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    bombs = [
        bomb_member(name, head, unit, part_bytes // len(unit), b"</w:styles>") for name in parts
    ]
    return write_zip([*_members_of(small_docx(), drop=parts), *bombs])


def lying_docx() -> bytes:
    """A DOCX whose directory declares document.xml at 1 KB while it inflates to ~200 MB."""
    raw = docx_bomb(200 * MIB)
    real = [m for m in _zip_members_raw(raw)]
    return write_zip([Member(m.name, m.data, m.crc, 1024 if m.name == "word/document.xml"
                             else m.size, m.method) for m in real])  # fmt: skip


def _zip_members_raw(raw: bytes) -> list[Member]:
    """Members of a zip written by write_zip, compressed data kept as is."""
    members, at = [], 0
    while raw[at : at + 4] == b"PK\x03\x04":
        f = struct.unpack("<HHHHHIIIHH", raw[at + 4 : at + 30])
        name = raw[at + 30 : at + 30 + f[8]].decode()
        start = at + 30 + f[8] + f[9]
        members.append(Member(name, raw[start : start + f[6]], f[5], f[7], f[2]))
        at = start + f[6]
    return members


def million_page_pdf(levels: int = 6, fanout: int = 10, declared: int | None = None) -> bytes:
    """A ~1.3 KB PDF whose page tree (each node's kids the same node, repeated) has 10**6 pages;
    `declared`: the /Count its nodes claim instead of the truth."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(levels):
        number, count = 2 + level, declared or fanout ** (levels - level)
        kids = b" ".join(b"%d 0 R" % (number + 1) for _ in range(fanout))
        parent = b" /Parent %d 0 R" % (number - 1) if level else b""
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d%s >>" % (kids, count, parent))
    content = b"BT /F1 11 Tf 56 780 Td (page) Tj ET"
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                   b"/Resources << /Font << /F1 %d 0 R >> >> >>"
                   % (levels + 1, levels + 3, levels + 4))  # fmt: skip
    objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf(objects)


def text_bomb_pdf(chars: int = 300_000, paths: int = 0) -> bytes:
    """A ~2 KB PDF whose one page's compressed content stream shows `chars` characters and
    draws `paths` line segments."""
    shows = b"(report figures 12345) Tj " * (chars // 20)
    lines = b"10 10 m 20 20 l S " * paths
    content = zlib.compress(lines + b"BT /F1 6 Tf 10 830 Td " + shows + b"ET", 9)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
            % (len(content), content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _pdf(objects: Sequence[bytes]) -> bytes:
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@dataclass(frozen=True)
class Outcome:
    """How parsing one file in its own process ended."""

    name: str
    outcome: (
        str  # 'ok', 'ParseError:<class>', 'crash:<type>: <message>', 'killed:<signal>', 'timeout'
    )
    seconds: float
    peak_rss_mib: float
    detail: str = ""


# The fork server: imports the parsers once, then forks a child per file. The child sets the
# hard limits and parses; the server times it and reads its peak RSS from wait4.
_SERVER = r"""
import json, os, re, resource, signal, sys, time
import parsers, parsers.forms.pdf, parsers.forms.office  # noqa: F401 - imported before forking
import docx, openpyxl, pdfplumber, pypdf, pypdfium2  # noqa: F401
from parsers import ParseError, parse_bytes
limit, timeout = int(sys.argv[1]), float(sys.argv[2])
for line in sys.stdin:
    path = line.rstrip("\n")
    read, write = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            with open(path, "rb") as f:
                raw = f.read()
            parse_bytes(raw, "text/html" if path.endswith(".html") else None)
            result = ("ok", "")
        except ParseError as exc:
            result = ("ParseError:" + type(exc).__name__, str(exc)[:300])
            cause = exc.__cause__
            # A reader's out-of-memory dressed as a corrupt file: a MemoryError, or libxml2's
            # failed allocation, which lxml reports as XMLSyntaxError('unknown error').
            while cause is not None:
                if isinstance(cause, MemoryError) or re.search("emory|unknown error", str(cause)):
                    result = ("crash:out-of-memory", repr(cause)[:300])
                cause = cause.__cause__ or cause.__context__
            if exc.__cause__ is not None:
                result = (result[0], result[1] + " <- " + repr(exc.__cause__)[:200])
        except BaseException as exc:
            result = ("crash:" + type(exc).__name__, str(exc)[:300])
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    timed_out = True
    while time.monotonic() - start < timeout:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            timed_out = False
            break
        time.sleep(0.005)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    data = os.read(read, 65536)
    os.close(read)
    if timed_out:
        outcome, detail = "timeout", ""
    elif data:
        outcome, detail = json.loads(data)
    elif os.WIFSIGNALED(status):
        outcome, detail = "killed:%d" % os.WTERMSIG(status), ""
    else:
        outcome, detail = "died:%d" % os.WEXITSTATUS(status), ""
    print(json.dumps([path, outcome, seconds, usage.ru_maxrss / 1024, detail]), flush=True)
"""


def run_isolated(
    paths: Sequence[Path], limit: int = ADDRESS_SPACE_LIMIT, timeout: float = TIMEOUT_SECONDS
) -> list[Outcome]:
    """Parse each file in a forked child under RLIMIT_AS=`limit` and `timeout` seconds."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", _SERVER, str(limit), str(timeout)],
        input="".join(f"{p}\n" for p in paths),
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=True,
        timeout=timeout * len(paths) + 60,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return [Outcome(Path(p).name, o, s, r, d) for p, o, s, r, d in rows]
