"""Issue 12, the archive's side: a capture that cannot be read is recorded and passed over, the
write lock is held in short batches, long URLs and headers fit, concurrent indexers and
migrations do not collide."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import inspect

from archive.db import make_engine

# Waits for a start signal (a file appearing), so that the processes start their work together.
_MIGRATE = """
import sys, time
from pathlib import Path
from archive.db import make_engine, upgrade
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
upgrade(make_engine(sys.argv[1]))
"""


def _together(
    script: str, args: list[list[str]], go: Path
) -> list[subprocess.CompletedProcess[str]]:
    """Run `script` once per argument list, all released at the same moment."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *a, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in args
    ]
    time.sleep(1.5)  # the interpreters and imports are up
    go.touch()
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def test_processes_migrating_a_fresh_sqlite_archive_at_once_all_succeed(tmp_path: Path) -> None:
    # Before: pysqlite ran each CREATE TABLE in a transaction of its own, so the second process
    # also saw no revision and failed with "table blobs already exists".
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'fresh{attempt}.db'}"
        done = _together(_MIGRATE, [[url]] * 3, tmp_path / f"go{attempt}")
        assert [d.returncode for d in done] == [0, 0, 0], [d.stderr[-400:] for d in done]
        engine = make_engine(url)
        assert "captures" in inspect(engine).get_table_names()
        engine.dispose()
