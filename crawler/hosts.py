"""The one policy for what a crawl may fetch: its portal's own host(s), and the sister hosts its
settings row names in `allowed_hosts`. Nothing a page links or redirects to elsewhere is fetched.

A host is compared as (name, port) after normalisation, with no DNS lookup: lower case, no
trailing dot, IDNA for non-ASCII names, and every numeric IPv4 spelling a resolver accepts
(`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`) as its dotted quad, so that another
spelling of an address is the same host and nothing else is. `localhost` and `127.0.0.1` are
different hosts unless both are listed; so is the same name on another port.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.config import PortalConfig

DEFAULT_PORTS = {"http": 80, "https": 443}
# Portals move between http and https; a base_url without a port allows its host on both
# default ports, never on another one.
BOTH_DEFAULTS = frozenset(DEFAULT_PORTS.values())
# Addresses a public portal never has: a base_url on one is worth a warning (not loopback, which
# the replicas and the tests use).
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
        "fe80::/10",
    )
)

HEX = re.compile(r"0[xX][0-9a-fA-F]*")
OCTAL = re.compile(r"0[0-7]+")
DECIMAL = re.compile(r"0|[1-9][0-9]*")
HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")

Origin = tuple[str, int]  # (normalised host, port)


class BadHost(ValueError):
    """A host or URL that names no host this policy can compare."""


def normalise_host(host: str) -> str:
    """The canonical spelling of a URL's host: numeric IPv4 forms as a dotted quad, IPv6
    compressed without brackets (an IPv4-mapped one as its IPv4), names in lower-case IDNA."""
    name = host.strip().removeprefix("[").removesuffix("]").rstrip(".").lower()
    if not name:
        raise BadHost(f"empty host in {host!r}")
    v4 = _ipv4(name)
    if v4 is not None:
        return v4
    if ":" in name:
        try:
            v6 = ipaddress.IPv6Address(name.split("%", 1)[0])
        except ValueError:
            raise BadHost(f"not an IPv6 address: {host!r}") from None
        return str(v6.ipv4_mapped or v6)
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadHost(f"not a host name: {host!r}") from None


def _ipv4(name: str) -> str | None:
    """A name a resolver would read as an IPv4 address (WHATWG URL's IPv4 parser: one to four
    parts, each decimal, 0x hex or 0 octal, the last filling the remaining bytes), else None."""
    parts = name.split(".")
    if len(parts) > 4 or not all(parts):
        return None
    numbers = [_number(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    last = values.pop()
    if any(v > 255 for v in values) or last >= 256 ** (4 - len(values)):
        return None
    address = last
    for index, value in enumerate(values):
        address += value << (8 * (3 - index))
    return str(ipaddress.IPv4Address(address))


def _number(part: str) -> int | None:
    """One part of a numeric IPv4 host: 0x hex, 0 octal or decimal (ASCII digits only)."""
    if HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if OCTAL.fullmatch(part):
        return int(part, 8)
    return int(part) if DECIMAL.fullmatch(part) else None


def url_origin(url: str) -> Origin:
    """The (host, port) an http(s) URL would connect to; BadHost for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise BadHost(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise BadHost(f"bad port in {url!r}") from None
    return normalise_host(parts.hostname or ""), port or DEFAULT_PORTS[parts.scheme.lower()]


def host_entry(entry: str) -> frozenset[Origin]:
    """An `allowed_hosts` entry, `host` (both default ports) or `host:port` (that port only)."""
    try:
        parts = urlsplit("//" + entry.strip())
        port = parts.port
    except ValueError:
        raise BadHost(f"not a host or host:port: {entry!r}") from None
    if not parts.hostname or parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise BadHost(f"not a host or host:port: {entry!r}")
    host = normalise_host(parts.hostname)
    if not HOST_NAME.fullmatch(host) and ":" not in host:  # a wildcard matches nothing: say so
        raise BadHost(f"not a host name (no wildcards): {entry!r}")
    return frozenset((host, p) for p in ((port,) if port else BOTH_DEFAULTS))


@dataclass(frozen=True)
class HostPolicy:
    """The origins one portal's crawl may fetch from."""

    origins: frozenset[Origin]

    @classmethod
    def of(cls, base_url: str, allowed_hosts: tuple[str, ...] = ()) -> HostPolicy:
        """base_url's host (on its port, or both default ports) and the `allowed_hosts`."""
        parts = urlsplit(base_url)
        ports = (parts.port,) if parts.port else BOTH_DEFAULTS
        host = normalise_host(parts.hostname or "")
        origins = {(host, port) for port in ports}
        for entry in allowed_hosts:
            origins |= host_entry(entry)
        return cls(frozenset(origins))

    @classmethod
    def for_portal(cls, portal: PortalConfig) -> HostPolicy:
        return cls.of(portal.base_url, portal.allowed_hosts)

    def allows(self, url: str) -> bool:
        """Whether `url` is an http(s) URL on one of the portal's hosts."""
        try:
            return url_origin(url) in self.origins
        except BadHost:
            return False


def internal_address(url: str) -> str | None:
    """The address of a URL whose host is a private, link-local or shared network address
    (not loopback), else None."""
    try:
        host, _port = url_origin(url)
        address = ipaddress.ip_address(host)
    except (BadHost, ValueError):
        return None
    if any(address in net for net in INTERNAL_NETWORKS if net.version == address.version):
        return host
    return None


def offsite_starts(portal: PortalConfig) -> list[str]:
    """The entry points and annual-report module pages of a portal that are not on its hosts."""
    policy = HostPolicy.for_portal(portal)
    module = portal.annual_report.urls(portal.base_url)[:1] if portal.annual_report else []
    starts = [*(portal.url(entry) for entry in portal.entry_points), *module]
    return [url for url in starts if not policy.allows(url)]
