"""DOC (Word 97-2003) -> text through antiword's DocBook output and LibreOffice's DOCX.

The one place the parsers run programs (and write a temporary folder, for LibreOffice). Each
converter loses tables the other keeps: antiword drops the rows of tables with merged cells and
gives up on some small files ('the text stream of this file is too small'); LibreOffice turned
a 60-row table without merges into one paragraph (tests/golden/national2014-doc). So both run,
when installed, and the text with more table rows wins. antiword's plain-text mode wraps long
cells over lines, splitting row labels, hence DocBook.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from parsers.errors import ConverterMissing, CorruptFile
from parsers.forms.office import docx_text
from parsers.grid import render_rows
from parsers.model import Extracted
from parsers.rules.forms import (
    DOC_CONVERTER,
    DOC_CONVERTER_FAILED,
    DOC_CONVERTER_TIMEOUT,
    DOC_FALLBACK,
)


def extract(raw: bytes) -> Extracted:
    """Paragraphs and table rows of a DOC file, in document order."""
    have = [shutil.which(DOC_CONVERTER[0]), shutil.which(DOC_FALLBACK[0])]
    if not any(have):
        raise ConverterMissing("DOC (neither antiword nor LibreOffice is installed)")
    texts = [t for t in (_via_antiword(raw) if have[0] else None,
                         _via_libreoffice(raw) if have[1] else None) if t is not None]  # fmt: skip
    if not texts:
        raise CorruptFile("DOC")
    return Extracted(max(texts, key=lambda t: (t.count("\t"), len(t))), "doc")


def _via_antiword(raw: bytes) -> str | None:
    xml = _antiword(raw)
    if xml is None:
        return None
    root = etree.fromstring(xml, etree.XMLParser(recover=True, resolve_entities=False))
    return None if root is None else "\n".join(_lines(root))


def _via_libreoffice(raw: bytes) -> str | None:
    try:
        return docx_text(_libreoffice(raw)).text
    except CorruptFile:
        return None


def _antiword(raw: bytes) -> bytes | None:
    try:
        done = subprocess.run(
            DOC_CONVERTER,
            input=raw,
            capture_output=True,
            timeout=DOC_CONVERTER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    failed = done.returncode != 0 or any(m in done.stderr for m in DOC_CONVERTER_FAILED)
    return None if failed or b"<" not in done.stdout else done.stdout


def _libreoffice(raw: bytes) -> bytes:
    with tempfile.TemporaryDirectory(prefix="nianbao-doc-") as tmp:
        folder = Path(tmp)
        (folder / "in.doc").write_bytes(raw)
        profile = f"-env:UserInstallation={(folder / 'profile').as_uri()}"
        command = [*DOC_FALLBACK, profile, "--outdir", str(folder), str(folder / "in.doc")]
        try:
            subprocess.run(command, capture_output=True, timeout=DOC_CONVERTER_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CorruptFile("DOC") from exc
        out = folder / "in.docx"
        if not out.is_file():
            raise CorruptFile("DOC")
        return out.read_bytes()


def _lines(root: etree._Element) -> list[str]:
    lines: list[str] = []
    for node in root.iter("para", "row"):
        if node.tag == "row":
            cells = ["".join("".join(e.itertext()).split()) for e in node if e.tag == "entry"]
            lines.extend(render_rows([cells]))
        elif not _inside_table(node):
            text = " ".join("".join(t for t in _own_text(node)).split())
            if text:
                lines.append(text)
    return lines


def _inside_table(node: etree._Element) -> bool:
    return any(a.tag in ("entry", "informaltable", "table") for a in node.iterancestors())


def _own_text(para: etree._Element) -> list[str]:
    """A paragraph's text without the tables antiword nests inside paragraphs."""
    parts = [para.text or ""]
    for child in para:
        if child.tag not in ("informaltable", "table"):
            parts.extend(child.itertext())
        parts.append(child.tail or "")
    return parts
