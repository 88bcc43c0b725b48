"""Every command is documented: listed in the README, and its --help carries an example."""

from __future__ import annotations

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
