"""The response headers a capture keeps: the first ones, up to a count and a size.

A server may send any number of headers (Twisted parses 200,000 of them without complaint); kept
whole they made an 11.7 MB row on every capture of the portal. Past the limits the rest are
dropped and the capture says so in its finding.
"""

from __future__ import annotations

MAX_HEADERS = 100  # real servers send 10 to 30
MAX_HEADER_BYTES = 64 * 1024  # names and values together; a large Set-Cookie or CSP fits

Pairs = tuple[tuple[str, str], ...]


def capped_headers(headers: dict[bytes, list[bytes]]) -> tuple[Pairs, str | None]:
    """(name, value) pairs in the order received, cut at MAX_HEADERS or MAX_HEADER_BYTES, and a
    finding naming the cut (None when everything fit)."""
    kept: list[tuple[str, str]] = []
    size = total = 0
    # The raw dict: Headers.items() would re-normalise every name and value.
    for name, values in dict.items(headers):
        for value in values:
            total += 1
            size += len(name) + len(value)
            if total <= MAX_HEADERS and size <= MAX_HEADER_BYTES:
                kept.append((name.decode("latin-1"), value.decode("latin-1")))
    if len(kept) == total:
        return tuple(kept), None
    cut = f"headers cut: kept the first {len(kept)} of {total} ({size:,} bytes)"
    return tuple(
        kept
    ), f"{cut}; the limits are {MAX_HEADERS} headers and {MAX_HEADER_BYTES:,} bytes"
