"""A plain `pip install .` must carry what the demo needs: settings, replica data, migrations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_settings_replica_content_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("nianbao-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "nianbao/settings.toml" in names
    assert "archive/migrations/env.py" in names
    assert any(n.startswith("archive/migrations/versions/0001") for n in names)
    data = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "replica" / "data").rglob("*")
        if p.is_file()
    }
    assert data and data <= names, sorted(data - names)
    assert sum(n.startswith("replica/data/seeds/") for n in names) == 5
