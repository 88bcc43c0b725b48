"""`python -m replica serve`: serve the replica portals until SIGTERM or SIGINT.

Prints one JSON line of the portal URLs on stdout first, so a parent process can read it:
    {"tongxiang": "http://127.0.0.1:43121", "taizhou": "http://127.0.0.1:43122"}
`python -m replica hostile` serves the fault-injecting portal instead (replica/hostile.py).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from replica.hostile import FAULTS, HostileServer
from replica.server import ReplicaServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m replica",
        description="Replica portals on loopback. Example: python -m replica serve --portal handan",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the portals; prints their URLs as one JSON line")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--portal",
        action="append",
        dest="portals",
        help="portal id (repeatable; default: tongxiang and taizhou; also handan, trs_county, lanxi, kaihua, yiwu_variants, trs_posts, bench)",
    )
    sub.add_parser(
        "hostile",
        help="serve the fault-injecting portal (replica/hostile.py); prints its URL as one JSON line",
    ).add_argument("--host", default="127.0.0.1")
    return parser


def serve(portals: Sequence[str] | None, host: str) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ReplicaServer(portals, host) as replica:
        print(json.dumps(replica.urls), flush=True)
        # Waking up now and then keeps the main thread responsive to signals.
        while not stop.wait(0.1):
            pass
    return 0


def serve_hostile(host: str) -> int:
    """The hostile portal until SIGTERM or SIGINT: `/<fault>/col/col1/index.html` per fault."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    with HostileServer(host) as hostile:
        print(json.dumps({"hostile": hostile.url, "faults": list(FAULTS)}), flush=True)
        while not stop.wait(0.1):
            pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "hostile":
        return serve_hostile(args.host)
    return serve(args.portals, args.host)


if __name__ == "__main__":
    raise SystemExit(main())
