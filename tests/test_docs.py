"""Every command is documented: listed in the README, and its --help carries an example."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from nianbao.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def commands(group: click.Group = cli, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += commands(command, f"{full} ")
        else:
            found.append((full, command))
    return found


@pytest.mark.parametrize(("name", "command"), commands(), ids=[n for n, _ in commands()])
def test_each_command_is_in_the_readme_with_an_example_in_its_help(
    name: str, command: click.Command
) -> None:
    assert f"`nianbao {name}" in README, f"README does not list `nianbao {name}`"
    assert "Example: nianbao " in (command.help or ""), f"`nianbao {name} --help` has no example"


def test_the_readme_opens_with_the_two_commands() -> None:
    block = README.split("```")[1].strip().splitlines()[1:]
    assert len(block) == 2
    assert block[0].endswith("nianbao demo") and block[1] == "./scripts/test"


def test_the_generated_docs_are_current() -> None:
    """README's command table and docs/figures.md's keys, as `python -m nianbao.docgen` writes
    them: a changed command or figure key without regenerated docs fails here."""
    from nianbao.docgen import generated

    stale = [
        str(path.relative_to(ROOT))
        for path, text in generated(cli).items()
        if path.read_text("utf-8") != text
    ]
    assert not stale, f"run `python -m nianbao.docgen`: {stale} are stale"


def test_docs_figures_lists_every_key_the_cli_lists() -> None:
    from parsers.rules.catalog import figure_catalog

    text = (ROOT / "docs" / "figures.md").read_text("utf-8")
    for entry in figure_catalog():
        assert f"| `{entry.key}` | {entry.label} |" in text


ROOT = Path(__file__).resolve().parent.parent
SOURCES = (
    "parsers",
    "archive",
    "crawler",
    "scheduler",
    "nianbao",
    "web",
    "replica",
    "tests",
    "docs",
    "scripts",
    "bench",
)
# A doc named in help text, a comment or a doc (`docs/x.md`, `x.md`), or a path outside the
# repository (the specs the project started from are not shipped).
OUTSIDE = re.compile(r"shared/spec|\.\./shared|/work/shared")
NAMED = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")


def _texts() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "settings.toml", ROOT / "pyproject.toml"]
    for top in SOURCES:
        files += [
            p for p in (ROOT / top).rglob("*") if p.suffix in (".py", ".md", ".toml", ".html")
        ]
    return [p for p in files if p.is_file() and p != Path(__file__)]


def test_no_text_cites_a_file_outside_the_repository() -> None:
    outside = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in _texts()
        for m in OUTSIDE.finditer(p.read_text("utf-8", errors="replace"))
    ]
    assert not outside, outside


def test_every_cited_doc_is_in_the_repository() -> None:
    shipped = {p.relative_to(ROOT) for p in ROOT.rglob("*.md") if ".venv" not in p.parts}
    names = {p.name for p in shipped}
    missing = sorted(
        f"{p.relative_to(ROOT)}: {m.group(1)}"
        for p in _texts()
        for m in NAMED.finditer(p.read_text("utf-8", errors="replace"))
        if not (Path(m.group(1)) in shipped or ("/" not in m.group(1) and m.group(1) in names))
    )
    assert not missing, missing
