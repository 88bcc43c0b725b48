"""Progress of a long command: a rich bar on a terminal, plain log lines anywhere else.

Example::

    with progress("backfill tongxiang", total=25) as bar:
        for i, cell in enumerate(cells, 1):
            ...
            bar.update(i, f"{cell}: ok")
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column


class Reporter:
    """Where a command says how far it got; plain lines unless a terminal shows a bar."""

    def __init__(self, label: str, total: int | None, bar: Progress | None) -> None:
        self.label, self.total, self._bar = label, total, bar
        self._task = bar.add_task(label, total=total, message="") if bar is not None else None

    @property
    def has_bar(self) -> bool:
        """True when a terminal shows a bar (cheap to update), False for plain log lines."""
        return self._bar is not None

    def update(self, done: int, message: str = "", total: int | None = None) -> None:
        """`done` of `total` steps are finished; `message` says what just happened."""
        self.total = total if total is not None else self.total
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=self.total, message=message)
            return
        of = f"/{self.total}" if self.total is not None else ""
        click.echo(f"{self.label}: {done}{of} {message}".rstrip(), err=True)


@contextmanager
def progress(
    label: str, total: int | None = None, stream: TextIO | None = None
) -> Iterator[Reporter]:
    """A `Reporter` for the length of the block, drawing on `stream` (stderr by default)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield Reporter(label, total, None)
        return
    columns = (
        TextColumn("{task.description}", table_column=Column(no_wrap=True)),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn(
            "{task.fields[message]}",
            table_column=Column(max_width=48, no_wrap=True, overflow="ellipsis"),
        ),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as bar:
        yield Reporter(label, total, bar)
