"""A Redis server for the tests: the one NIANBAO_TEST_REDIS_URL names, or a throwaway server.

The throwaway server is Debian's `redis-server`, started in a temp dir on a free loopback port,
without persistence (no RDB snapshots, no AOF), and killed and deleted at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_URL = "NIANBAO_TEST_REDIS_URL"
START_SECONDS = 10.0


class RedisUnavailable(RuntimeError):
    """No Redis server can be found or started for the tests."""


@contextmanager
def redis_server() -> Iterator[str]:
    """The URL of NIANBAO_TEST_REDIS_URL's server, else of a throwaway one."""
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(
            "redis-server not found: install it (apt-get install redis-server) "
            f"or point {ENV_URL} at a running server"
        )
    root = Path(tempfile.mkdtemp(prefix="nbredis-"))
    port = _free_port()
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(root)]
    args += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
    log = open(root / "server.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    try:
        _wait_ready(port, proc, root)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(port: int, proc: subprocess.Popen[bytes], root: Path) -> None:
    """Until the server answers PING (it listens a moment after it starts)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (root / "server.log").read_text(errors="replace")[-2000:]
            raise RedisUnavailable(f"redis-server exited {proc.returncode}: {tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RedisUnavailable(f"redis-server did not answer on port {port} in {START_SECONDS} s")
