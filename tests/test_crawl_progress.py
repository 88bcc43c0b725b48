"""Live page counts (issue 15, item 6): while `nianbao crawl` and `nianbao demo` crawl, stderr says
how many pages the running portals have crawled so far; stdout carries the results only, and no
line holds both. Real crawls over loopback: a national replica portal (replica/national.py) that
answers each request after 50-60 ms, so that its crawl of ~66 pages lasts a few seconds, long
enough for the worker's progress lines (one a second) to be seen mid-crawl."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from replica_fixtures import national_process

from replica import national, settings_for

LATENCY = (0.05, 0.06)
LIVE = re.compile(r"(\d+) pages, 1 portal crawling")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # terminal control sequences (CSI)


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with national_process(1, LATENCY) as found:
        yield found


def config(root: Path, urls: dict[str, str]) -> Path:
    national.register(len(urls))  # settings_for reads the generated portals' truth
    text = settings_for(urls, f"sqlite:///{root / 'archive.db'}", str(root / "blobs"))
    path = root / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def crawl_command(settings: Path) -> list[str]:
    return [sys.executable, "-m", "nianbao", "--config", str(settings), "crawl", "--json"]


def the_result(stdout: str) -> dict[str, object]:
    """stdout's one line: the portal's result and nothing else."""
    (line,) = stdout.splitlines()
    row: dict[str, object] = json.loads(line)
    assert row["portal"] == "n0000" and row["status"] == "ok", row
    assert isinstance(row["pages"], int) and row["pages"] > 60
    return row


def test_plain_stderr_counts_pages_while_stdout_has_only_results(
    urls: dict[str, str], tmp_path: Path
) -> None:
    done = subprocess.run(
        crawl_command(config(tmp_path, urls)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pages = the_result(done.stdout)["pages"]
    lines = done.stderr.splitlines()
    # Mid-crawl: the portal is not done (0/1) and has some of its pages, not yet all of them.
    live = [
        int(m[1]) for line in lines if line.startswith("crawl: 0/1 ") and (m := LIVE.search(line))
    ]
    assert live and 0 < live[0] < pages, done.stderr
    assert f"crawl: 1/1 n0000: ok; {pages} pages, 0 portals crawling" in lines
    assert not any('"run_id"' in line for line in lines)


@contextmanager
def terminal() -> Iterator[tuple[int, list[bytes]]]:
    """A pseudo-terminal: its follower end (for the child) and what is drawn on it, read until
    the child closes it."""
    leader, follower = pty.openpty()
    drawn: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the last holder of the follower end closed it
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield follower, drawn
    finally:
        with contextlib.suppress(OSError):
            os.close(follower)
        reader.join(timeout=10)
        os.close(leader)


def run_on(settings: Path, follower: int, both: bool) -> str:
    """The crawl, stderr on the terminal, stdout a pipe (its text returned) or, when `both`,
    the terminal too."""
    proc = subprocess.Popen(
        crawl_command(settings),
        stdout=follower if both else subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
        text=True,
    )
    os.close(follower)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    return out or ""


def test_a_bar_on_a_terminal_leaves_stdout_to_the_results(
    urls: dict[str, str], tmp_path: Path
) -> None:
    # stderr a terminal (the bar is drawn), stdout a pipe: the results go to the pipe.
    with terminal() as (follower, drawn):
        out = run_on(config(tmp_path, urls), follower, both=False)
    terminal_text = b"".join(drawn).decode("utf-8", "replace")
    pages = the_result(out)["pages"]
    live = [int(n) for n in LIVE.findall(terminal_text)]
    assert live and 0 < min(live) < pages, terminal_text[-2000:]
    assert f"n0000: ok; {pages} pages" in terminal_text
    assert '"run_id"' not in terminal_text


def test_on_one_terminal_a_result_never_lands_on_the_bars_line(
    urls: dict[str, str], tmp_path: Path
) -> None:
    # stdout and stderr the same terminal: the result is printed above the bar, on a line of
    # its own (written past the bar, it would follow the bar's text on its last line).
    with terminal() as (follower, drawn):
        run_on(config(tmp_path, urls), follower, both=True)
    raw = b"".join(drawn).decode("utf-8", "replace")
    shown = [
        # The terminal ends its lines with CR LF; a CR within a line starts it over.
        ESCAPES.sub("", line).rstrip("\r").rsplit("\r", 1)[-1]
        for line in raw.split("\n")
    ]
    (result,) = [line for line in shown if '"run_id"' in line]
    the_result(result)
    assert LIVE.search(raw)  # the bar was drawn, with live counts


def test_the_demo_shows_pages_on_stderr_and_its_table_on_stdout(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nianbao", "demo", "--workdir", str(tmp_path / "demo"),
         "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.lstrip("\ufeff").startswith("year,portal,publisher") and rows
    assert not any("pages" in row for row in rows)
    totals = re.findall(
        r"^demo crawl: (\d)/(\d) \w+: (\d+) pages.*; (\d+) pages", done.stderr, re.M
    )
    assert [(a, b) for a, b, _p, _all in totals] == [("1", "2"), ("2", "2")], done.stderr
    # The last line's total is every portal's pages.
    assert int(totals[-1][3]) == sum(int(p) for _a, _b, p, _all in totals)
