"""Fuzzing the file parsers (issue 12): generated DOCX, XLSX, PDF and HTML, valid, truncated,
mutated and bombs, each parsed in its own process under hard limits on memory and time.

Every file must end in a result or a ParseError, within RLIMIT_AS = 512 MB and 10 s; the test
asserts both from what each child measured (wall time, peak RSS from wait4). The inputs are
seeded: a failure names its file, and the same seed makes it again. The default run is short;
`NIANBAO_FUZZ_FILES=40 pytest tests/test_fuzz_files.py` digs deeper (mutants per seed file),
`NIANBAO_FUZZ_SEED=N` changes the draw.
"""

from __future__ import annotations

import io
import os
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_inputs import (
    ADDRESS_SPACE_LIMIT,
    MIB,
    TIMEOUT_SECONDS,
    Outcome,
    docx_bomb,
    lying_docx,
    many_parts_docx,
    million_page_pdf,
    run_isolated,
    small_docx,
    small_xlsx,
    text_bomb_pdf,
    write_zip,
    xlsx_bomb,
)

from parsers.rules import limits
from replica.pdf import text_pdf

MUTANTS = int(os.environ.get("NIANBAO_FUZZ_FILES", "10"))
SEED = int(os.environ.get("NIANBAO_FUZZ_SEED", "12"))
GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILES = ("gov2021-docx/input.docx", "national2014-docx/input.docx",
                "gov2019-xlsx/input.xlsx", "gov2021-xlsx/input.xlsx", "gov2021-pdf/input.pdf",
                "national2014-pdf-no-unicode-map/input.pdf", "gov2021-word-html/input.html",
                "html-trs-word-table/input.html")  # fmt: skip
INTERESTING = (b"0", b"-1", b"1", b"65535", b"2147483648", b"999999999999", b"1e308", b"NaN")
TAGS = ("p", "div", "table", "tr", "td", "font", "span", "a", "br", "b", "h1", "meta", "script")


def seeds(rng: random.Random) -> dict[str, bytes]:
    """Valid files: golden inputs and generated ones."""
    files = {path.replace("/", "-"): (GOLDEN / path).read_bytes() for path in GOLDEN_FILES}
    words = ["收到申请数", "主动公开", "政府信息公开", "年度报告", "12", "3.5", "万元", "二〇二一"]
    files["generated.docx"] = small_docx([" ".join(rng.choices(words, k=6)) for _ in range(20)])
    files["generated.xlsx"] = small_xlsx([rng.choices(words, k=4) for _ in range(30)])
    files["generated.pdf"] = text_pdf(
        [f"Report {rng.randint(0, 9999)} line {i}" for i in range(40)]
    )
    files["soup.html"] = tag_soup(rng, 3000).encode("utf-8")
    return files


def tag_soup(rng: random.Random, tags: int) -> str:
    """HTML with random, often unclosed, tags, attributes and report words."""
    parts = ['<html><head><meta charset="utf-8"></head><body><div id="zoom">']
    for _ in range(tags):
        tag = rng.choice(TAGS)
        attrs = rng.choice(
            ["", ' colspan="99999"', ' rowspan="-3"', ' href="x.pdf"', ' class="TRS_Editor"']
        )
        parts.append(
            rng.choice([f"<{tag}{attrs}>", f"</{tag}>", "收到申请数 12 件", "&#0;", "<!--", "-->"])
        )
    return "".join(parts)


def truncate(rng: random.Random, raw: bytes) -> bytes:
    return raw[: rng.randrange(1, len(raw))]


def mutate(rng: random.Random, raw: bytes) -> bytes:
    """One to four edits: flipped bytes, a chunk cut, doubled or inserted, a number swapped."""
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data))
        size = rng.randint(1, 64)
        edit = rng.randrange(5)
        if edit == 0:
            data[at] = rng.randrange(256)
        elif edit == 1:
            del data[at : at + size]
        elif edit == 2:
            data[at:at] = data[at : at + size] * rng.randint(2, 2000)
        elif edit == 3:
            data[at:at] = rng.randbytes(size)
        else:
            data = bytearray(swap_number(rng, bytes(data)))
        if not data:
            data = bytearray(b"x")
    return bytes(data)


def swap_number(rng: random.Random, raw: bytes) -> bytes:
    numbers = list(re.finditer(rb"\d+", raw[:200_000]))
    if not numbers:
        return raw
    m = rng.choice(numbers)
    return raw[: m.start()] + rng.choice(INTERESTING) + raw[m.end() :]


def mutate_member(rng: random.Random, raw: bytes) -> bytes:
    """A zip whose XML member is mutated and re-zipped with a right CRC: the XML readers see it."""
    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        members = {i.filename: source.read(i) for i in source.infolist()}
    xml = [name for name in members if name.endswith(".xml")]
    name = rng.choice(xml)
    members[name] = mutate(rng, members[name])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member, content in members.items():
            target.writestr(member, content)
    return out.getvalue()


def many_members() -> bytes:
    from hostile_inputs import deflated, named

    padding = [named(deflated(b""), f"word/media/{i}.bin") for i in range(limits.MAX_ZIP_MEMBERS)]
    with zipfile.ZipFile(io.BytesIO(small_docx())) as source:
        real = [named(deflated(source.read(i)), i.filename) for i in source.infolist()]
    return write_zip([*real, *padding])


def shared_strings_bomb() -> bytes:
    from hostile_inputs import bomb_member

    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    strings = bomb_member(
        "xl/sharedStrings.xml", head, b"<si><t>x</t></si>", 9 * MIB // 17, b"</sst>"
    )
    with zipfile.ZipFile(io.BytesIO(small_xlsx())) as source:
        from hostile_inputs import deflated, named

        real = [named(deflated(source.read(i)), i.filename) for i in source.infolist()
                if i.filename != "xl/sharedStrings.xml"]  # fmt: skip
    return write_zip([*real, strings])


# Bombs and pathological pages: the invented hostile inputs of issue 12 and their neighbours.
BOMBS: dict[str, Callable[[], bytes]] = {
    "bomb-270mb.docx": docx_bomb,
    "bomb-9mb-document.docx": lambda: docx_bomb(9 * MIB),
    "bomb-300mb.xlsx": lambda: xlsx_bomb(300 * MIB),
    "bomb-4mb-sheet-no-dimension.xlsx": lambda: xlsx_bomb(4 * MIB),
    "bomb-4mb-sheet.xlsx": lambda: xlsx_bomb(4 * MIB, dimension=True),
    "bomb-6mb-sheet.xlsx": lambda: xlsx_bomb(6 * MIB, dimension=True),
    "bomb-shared-strings.xlsx": shared_strings_bomb,
    "bomb-lying-directory.docx": lying_docx,
    "bomb-many-parts.docx": many_parts_docx,
    "bomb-many-members.docx": many_members,
    "bomb-million-pages.pdf": million_page_pdf,
    "bomb-text-stream.pdf": text_bomb_pdf,
    "bomb-path-stream.pdf": lambda: text_bomb_pdf(chars=100, paths=300_000),
    "bomb-million-pages-count-1.pdf": lambda: million_page_pdf(declared=1),
    "br-15mb.html": lambda: b"<div id=zoom>" + b"<br>x" * 3_000_000,
    "deep-divs.html": lambda: b"<div>" * 5000 + "收到申请数 12".encode(),
    "deep-tables.html": lambda: b"<table><tr><td>" * 3000,
    "unclosed-fonts.html": lambda: '<font face="宋体"><p>收到申请数 1 件'.encode() * 20_000,
    "unclosed-anchors.html": lambda: b"".join(b'<a href="/f/%d.pdf">x' % i for i in range(40_000)),
    "huge-attribute.html": lambda: b'<div id=zoom><p title="' + b"x" * 8_000_000 + b'">y</p>',
    "colspans.html": lambda: b"<table>" + b'<tr><td colspan="99999" rowspan="99999">1' * 20_000,
    "spans-at-tag-limit.html": lambda: (
        b"<table>" + b'<tr><td colspan="50" rowspan="50">1' * 120_000
    ),
}


def corpus(folder: Path) -> list[Path]:
    rng = random.Random(SEED)
    files: dict[str, bytes] = {}
    for name, raw in seeds(rng).items():
        files[f"valid-{name}"] = raw
        for i in range(max(1, MUTANTS // 2)):
            files[f"truncated{i}-{name}"] = truncate(rng, raw)
        for i in range(MUTANTS):
            files[f"mutated{i}-{name}"] = mutate(rng, raw)
            if name.endswith((".docx", ".xlsx")):
                files[f"xml-mutated{i}-{name}"] = mutate_member(rng, raw)
    files.update({name: make() for name, make in BOMBS.items()})
    paths = []
    for name, raw in files.items():
        path = folder / name
        path.write_bytes(raw)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    return run_isolated(corpus(tmp_path_factory.mktemp("fuzz-files")))


def test_every_file_ends_in_a_result_or_a_parse_error(outcomes: list[Outcome]) -> None:
    bad = [o for o in outcomes if o.outcome != "ok" and not o.outcome.startswith("ParseError:")]
    assert not bad, "\n".join(f"{o.name}: {o.outcome} {o.detail}" for o in bad)


def test_every_file_stays_within_the_time_and_memory_bounds(outcomes: list[Outcome]) -> None:
    slowest = max(outcomes, key=lambda o: o.seconds)
    largest = max(outcomes, key=lambda o: o.peak_rss_mib)
    assert slowest.seconds < TIMEOUT_SECONDS, slowest
    assert largest.peak_rss_mib * MIB < ADDRESS_SPACE_LIMIT, largest
    print(f"\n{len(outcomes)} files; slowest {slowest.name} {slowest.seconds:.2f} s; "
          f"largest {largest.name} {largest.peak_rss_mib:.0f} MiB")  # fmt: skip


def test_the_corpus_reaches_results_refusals_and_every_kind(outcomes: list[Outcome]) -> None:
    """The fuzzing means something: valid files parse, bombs are refused by name."""
    by_name = {o.name: o for o in outcomes}
    assert all(by_name[n].outcome == "ok" for n in by_name if n.startswith("valid-")), [
        o for o in outcomes if o.name.startswith("valid-") and o.outcome != "ok"
    ]
    refused = {o.name for o in outcomes if o.outcome == "ParseError:LimitExceeded"}
    assert {"bomb-270mb.docx", "bomb-300mb.xlsx", "bomb-million-pages.pdf", "br-15mb.html",
            "deep-divs.html", "bomb-lying-directory.docx", "bomb-many-members.docx"} <= refused  # fmt: skip
    kinds = {Path(o.name).suffix for o in outcomes}
    assert kinds == {".docx", ".xlsx", ".pdf", ".html"}
