"""Progress of a long command: a rich bar on a terminal, plain log lines anywhere else.

Example::

    with progress("backfill tongxiang", total=25) as bar:
        for i, cell in enumerate(cells, 1):
            ...
            bar.update(i, f"{cell}: ok")

Progress goes to stderr and results to stdout (`Reporter.say`), never on one line: where stdout is
the terminal the bar is drawn on, results are printed above the bar; where it is not (a file, a
pipe), they go there untouched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column

if TYPE_CHECKING:
    from crawler.job import PortalProgress, PortalResult

TICK_SECONDS = 10.0  # a plain log line of live progress at most this often (`Reporter.tick`)


class Reporter:
    """Where a command says how far it got; plain lines unless a terminal shows a bar."""

    def __init__(self, label: str, total: int | None, bar: Progress | None) -> None:
        self.label, self.total, self._bar = label, total, bar
        self._task = bar.add_task(label, total=total, message="") if bar is not None else None
        self._ticked = -TICK_SECONDS  # when `tick` last wrote a plain line (monotonic seconds)

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

    def say(self, line: str) -> None:
        """A result line, to stdout. Where stdout is the terminal the bar is drawn on, above the
        bar: written past it, the line would land on the bar's last line (click writes to the
        stream beneath Rich's redirection)."""
        if self._bar is not None and sys.stdout.isatty():
            self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
            return
        click.echo(line)

    def tick(self, done: int, message: str) -> None:
        """Live progress between steps (pages crawled, say): the bar's message, or a plain line
        at most every TICK_SECONDS, so that a log is not flooded."""
        if self._bar is None:
            now = time.monotonic()
            if now - self._ticked < TICK_SECONDS:
                return
            self._ticked = now
        self.update(done, message)


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
    # Rich would print what goes to stdout through the bar's console, into `stream`: only
    # where stdout is the same kind of place (a terminal) is that what the user sees.
    with Progress(
        *columns,
        console=Console(file=stream),
        transient=False,
        redirect_stdout=sys.stdout.isatty(),
    ) as bar:
        yield Reporter(label, total, bar)


class PageCount:
    """Pages crawled so far: the running portals' live counts and the ended portals' totals."""

    def __init__(self) -> None:
        self.running: dict[str, int] = {}
        self.done = 0

    def moved(self, news: PortalProgress) -> None:
        self.running.update(news.pages)

    def ended(self, result: PortalResult) -> None:
        self.running.pop(result.portal, None)
        self.done += result.summary.pages if result.summary is not None else 0

    def __str__(self) -> str:
        pages = self.done + sum(self.running.values())
        running = len(self.running)
        return f"{pages} pages, {running} portal{'' if running == 1 else 's'} crawling"
