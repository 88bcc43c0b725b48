"""Generated parts of the docs: the README's command table (from the click group) and the key
list of docs/figures.md (from parsers.rules.catalog). Each sits between markers; `python -m
nianbao.docgen` rewrites them, tests/test_docs.py fails when one is stale (as sqlite-utils does
with cog)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from parsers.rules.catalog import figure_catalog

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- [[[generated: {name} -->", "<!-- ]]] -->"


def command_table(group: click.Group) -> str:
    """One row per command: its synopsis (arguments and options) and its help's first paragraph."""
    lines = ["| command | what it does |", "|---|---|"]
    for name, command in _commands(group):
        lines.append(f"| `{_synopsis(name, command)}` | {_summary(command)} |")
    return "\n".join(lines)


def figures_table() -> str:
    lines = ["| key | 中文 | templates |", "|---|---|---|"]
    for entry in figure_catalog():
        lines.append(f"| `{entry.key}` | {entry.label} | {', '.join(entry.templates)} |")
    return "\n".join(lines)


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append((f"{prefix}{name}", command))
    return found


def _synopsis(name: str, command: click.Command) -> str:
    parts = [f"nianbao {name}"]
    for param in command.params:
        if isinstance(param, click.Argument):
            metavar = (param.metavar or param.name or "").upper()
            metavar = f"{metavar} ..." if param.nargs == -1 else metavar
            parts.append(metavar if param.required else f"[{metavar}]")
        elif isinstance(param, click.Option) and param.name not in ("help",):
            flag = max(param.opts, key=len)
            if param.is_flag:
                parts.append(f"[{flag}]")
            elif isinstance(param.type, click.Choice):
                parts.append(f"[{flag} {'|'.join(map(str, param.type.choices))}]")
            else:
                parts.append(f"[{flag} {param.metavar or (param.name or 'x').upper()}]")
    return " ".join(parts).replace("|", "\\|")


def _summary(command: click.Command) -> str:
    first = (command.help or "").split("\n\n")[0]
    return " ".join(first.split()).replace("|", "\\|")


def replace_block(text: str, name: str, body: str) -> str:
    """`text` with the block between its `name` markers replaced by `body`."""
    start, end = START.format(name=name), END
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"no {start} … {end} markers")
    return pattern.sub(lambda _m: f"{start}\n{body}\n{end}", text, count=1)


def generated(group: click.Group) -> dict[Path, str]:
    """Every generated document, as it should read now."""
    readme, figures = ROOT / "README.md", ROOT / "docs" / "figures.md"
    return {
        readme: replace_block(readme.read_text("utf-8"), "commands", command_table(group)),
        figures: replace_block(figures.read_text("utf-8"), "figures", figures_table()),
    }


def main() -> None:
    from nianbao.cli import cli

    for path, text in generated(cli).items():
        if path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            print(f"rewrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
