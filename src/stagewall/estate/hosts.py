"""One spelling per host: when two written identifiers name the same machine or range.

``db.prod.example.internal.`` (the fully qualified form), ``DB.prod.example.internal``,
``db.prod.example.internal:5432`` and ``postgresql://app@db.prod.example.internal/shop``
all reach the same host; ``2001:db8::5`` and ``2001:DB8:0::5``, ``10.0.0.5`` and
``::ffff:10.0.0.5`` (IPv4-mapped IPv6) or ``10.0.0.5/32`` the same address. The estate
invariants (SW-EST-005) and the scanner's resource index compare these forms, so a
resource cannot be declared a second time, in another environment, under another
spelling of the same host.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# What an address can look like at all (``ipaddress`` is only asked about these): IPv4
# has three dots, IPv6 a colon; an IPv6 zone (``%eth0``) may follow.
_IPISH = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.]*)(?:%\S+)?", re.I)
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-f:.]+\]|[^\s/:\[\]@]+):(?P<port>\d{1,5})$", re.I)
_NAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$")


def address(text: str) -> Address | None:
    """``text`` as an IP address (brackets allowed), IPv4-mapped IPv6 as its IPv4."""
    text = text.strip().strip("[]")
    if not _IPISH.fullmatch(text):
        return None
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def network(text: str) -> Network | None:
    """``text`` as an address range (``10.0.0.0/16``), else None."""
    if "/" not in text:
        return None
    base, _, bits = text.strip().partition("/")
    ip = address(base)
    if ip is None or not bits.isdigit():
        return None
    prefix = int(bits)
    raw = base.strip().strip("[]")
    if ip.version == 4 and ":" in raw:  # an IPv4-mapped range: count the mapped bits only
        prefix -= 96
    try:
        return ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    except ValueError:
        return None


def host_key(identifier: str) -> str | None:
    """The canonical host (or address) an identifier names, or None when it names none.

    URLs give their host, ``host:port`` its host, a network of one address that
    address; names are lower-cased without the root's trailing dot; addresses are in
    their compressed form (IPv4-mapped IPv6 as IPv4). Bucket names, account ids and
    other plain words are their own key.
    """
    text = identifier.strip()
    if not text:
        return None
    if "://" in text:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return None
        return host_key(host) if host else None
    net = network(text)
    if net is not None:
        return str(net.network_address) if net.num_addresses == 1 else str(net)
    ip = address(text)
    if ip is not None:
        return str(ip)
    match = _HOST_PORT.match(text)
    if match is not None:
        return host_key(match.group("host"))
    name = text.lower().rstrip(".")
    if "/" in name or not name:
        return None
    return name if _NAME.match(name) else None


def range_of(identifier: str) -> Network | None:
    """The addresses an identifier covers (an address is a range of one), else None."""
    key = host_key(identifier)
    if key is None:
        return None
    net = network(key)
    if net is not None:
        return net
    ip = address(key)
    return ipaddress.ip_network(ip) if ip is not None else None


__all__ = ["Address", "Network", "address", "host_key", "network", "range_of"]
