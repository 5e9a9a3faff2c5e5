"""Which IP addresses a webhook may reach: the special-purpose tables and the one verdict.

The explicit tables decide, and `ipaddress`'s properties are a second opinion that can
only refuse more: those properties changed between Python 3.11 and 3.13, patch releases
included (3.11.7 and 3.12.1 call 192.0.0.8 and 2002::/16 global, 3.13.0 does not; none
of them calls 5f00::/16, 3fff::/20 or fec0::/10 non-global), and a verdict must not
depend on the runtime.
Standard library only: tests/unit/test_address_versions.py loads this file by path under
every supported interpreter and asserts identical verdicts.

IPv6 forms that carry an IPv4 address (NAT64, IPv4-compatible, -mapped, -translated,
6to4, Teredo) are judged by the IPv4 address they carry: a refused IPv4 address is as
reachable through them as directly (64:ff9b::a9fe:a9fe is 169.254.169.254 behind a NAT64).
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Range(NamedTuple):
    prefix: str
    name: str
    rfc: str


class Embedding(NamedTuple):
    """An IPv6 prefix whose addresses carry IPv4 addresses: (shift, inverted) of each."""

    prefix: str
    name: str
    rfc: str
    carried: tuple[tuple[int, bool], ...]


# The IANA IPv4 Special-Purpose Address Registry (as of 2025-10). Every entry is refused,
# "globally reachable" ones too: anycast infrastructure (PCP, TURN, AS112, AMT) is never a
# webhook receiver, and refusing it keeps the whole of 192.0.0.0/24 one rule.
IPV4_SPECIAL: tuple[Range, ...] = (
    Range("0.0.0.0/8", '"This network"', "RFC 791, section 3.2"),
    Range("0.0.0.0/32", '"This host on this network"', "RFC 1122, section 3.2.1.3"),
    Range("10.0.0.0/8", "Private-Use", "RFC 1918"),
    Range("100.64.0.0/10", "Shared Address Space", "RFC 6598"),
    Range("127.0.0.0/8", "Loopback", "RFC 1122, section 3.2.1.3"),
    Range("169.254.0.0/16", "Link Local", "RFC 3927"),
    Range("172.16.0.0/12", "Private-Use", "RFC 1918"),
    Range("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890, section 2.1"),
    Range("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335"),
    Range("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    Range("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
    Range("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    Range("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    Range("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    Range("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
    Range("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    Range("192.52.193.0/24", "AMT", "RFC 7450"),
    Range("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    Range("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751"),
    Range("192.168.0.0/16", "Private-Use", "RFC 1918"),
    Range("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
    Range("198.18.0.0/15", "Benchmarking", "RFC 2544"),
    Range("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
    Range("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
    Range("240.0.0.0/4", "Reserved", "RFC 1112, section 4"),
    Range("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 section 7"),
)

# Not in that registry, and no unicast receiver either.
IPV4_OTHER: tuple[Range, ...] = (Range("224.0.0.0/4", "Multicast", "RFC 5771"),)

# The IANA IPv6 Special-Purpose Address Registry (as of 2025-10), less the four entries
# that carry IPv4 addresses (IPV6_EMBEDDING). All refused, as for IPv4.
IPV6_SPECIAL: tuple[Range, ...] = (
    Range("::1/128", "Loopback Address", "RFC 4291"),
    Range("::/128", "Unspecified Address", "RFC 4291"),
    # Local-use NAT64: where the IPv4 address sits depends on the operator's prefix
    # length (RFC 6052, /48 to /96), so there is no one address to judge.
    Range("64:ff9b:1::/48", "IPv4-IPv6 Translat. (local use)", "RFC 8215"),
    Range("100::/64", "Discard-Only Address Block", "RFC 6666"),
    Range("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
    Range("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
    Range("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
    Range("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    Range("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    Range("2001:2::/48", "Benchmarking", "RFC 5180"),
    Range("2001:3::/32", "AMT", "RFC 7450"),
    Range("2001:4:112::/48", "AS112-v6", "RFC 7535"),
    Range("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
    Range("2001:20::/28", "ORCHIDv2", "RFC 7343"),
    Range("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs)", "RFC 9374"),
    Range("2001:db8::/32", "Documentation", "RFC 3849"),
    Range("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
    Range("3fff::/20", "Documentation", "RFC 9637"),
    Range("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    Range("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190"),
    Range("fe80::/10", "Link-Local Unicast", "RFC 4291"),
)

# Not in that registry: deprecated site-local and multicast. Everything else outside
# 2000::/3 (GLOBAL_UNICAST) is unassigned, and refused by that rule.
IPV6_OTHER: tuple[Range, ...] = (
    Range("fec0::/10", "Site-Local (deprecated)", "RFC 3879"),
    Range("ff00::/8", "Multicast", "RFC 4291"),
)

GLOBAL_UNICAST = Range("2000::/3", "Global Unicast", "RFC 4291, IANA IPv6 Address Space")

_LOW32 = ((0, False),)
IPV6_EMBEDDING: tuple[Embedding, ...] = (
    Embedding("64:ff9b::/96", "IPv4-IPv6 Translat. (NAT64)", "RFC 6052", _LOW32),
    Embedding("::/96", "IPv4-compatible (deprecated)", "RFC 4291, section 2.5.5.1", _LOW32),
    Embedding("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291, section 2.5.5.2", _LOW32),
    Embedding("::ffff:0:0:0/96", "IPv4-translated Address", "RFC 2765, section 2.1", _LOW32),
    # 2002:V4ADDR::/48: the 6to4 relay sends to V4ADDR.
    Embedding("2002::/16", "6to4", "RFC 3056", ((80, False),)),
    # 2001:0:SERVER:flags:port:~CLIENT: both the Teredo server and the client are reached.
    Embedding("2001::/32", "TEREDO", "RFC 4380, RFC 8190", ((64, False), (0, True))),
)


class _Entry(NamedTuple):
    network: Network
    label: str
    embedding: Embedding | None


def _entries(ranges: tuple[Range, ...] | tuple[Embedding, ...]) -> list[_Entry]:
    return [
        _Entry(
            ipaddress.ip_network(r.prefix),
            f"{r.prefix} {r.name} ({r.rfc})",
            r if isinstance(r, Embedding) else None,
        )
        for r in ranges
    ]


# Longest prefix first: the most specific entry names the refusal (::1 is Loopback, not
# an IPv4-compatible 0.0.0.1; 2001::/32 is Teredo before the 2001::/23 around it).
_V4 = sorted(_entries(IPV4_SPECIAL + IPV4_OTHER), key=lambda e: -e.network.prefixlen)
_V6 = sorted(
    _entries(IPV6_SPECIAL + IPV6_OTHER) + _entries(IPV6_EMBEDDING),
    key=lambda e: -e.network.prefixlen,
)
_GLOBAL_UNICAST = ipaddress.IPv6Network(GLOBAL_UNICAST.prefix)
_STDLIB_REFUSALS = (
    "is_unspecified",
    "is_loopback",
    "is_link_local",
    "is_multicast",
    "is_private",
    "is_reserved",
    "is_site_local",  # IPv6 only
)


def carried_ipv4(ip: ipaddress.IPv6Address, embedding: Embedding) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an address of `embedding`'s prefix carries."""
    value = int(ip)
    return [
        ipaddress.IPv4Address(((~value if inverted else value) >> shift) & 0xFFFFFFFF)
        for shift, inverted in embedding.carried
    ]


def _stdlib_refusal(ip: Address) -> str | None:
    for name in _STDLIB_REFUSALS:
        if getattr(ip, name, False):
            return f"the standard library's {name}"
    return None if ip.is_global else "not the standard library's is_global"


def refusal(address: str) -> str | None:
    """Why `address` may not receive webhooks; None when it is public."""
    if "%" in address:
        return "a scoped (link-local) address"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    return _judge(ip)


def _judge(ip: Address) -> str | None:
    for entry in _V4 if ip.version == 4 else _V6:
        if ip not in entry.network:
            continue
        if entry.embedding is None or not isinstance(ip, ipaddress.IPv6Address):
            return entry.label
        for carried in carried_ipv4(ip, entry.embedding):
            reason = _judge(carried)
            if reason is not None:
                return f"{entry.label} carrying {carried}: {reason}"
        return None  # judged by the IPv4 addresses it carries, all public
    if ip.version == 6 and ip not in _GLOBAL_UNICAST:
        return f"outside {GLOBAL_UNICAST.prefix} {GLOBAL_UNICAST.name} ({GLOBAL_UNICAST.rfc})"
    return _stdlib_refusal(ip)


def is_public(address: str) -> bool:
    return refusal(address) is None
