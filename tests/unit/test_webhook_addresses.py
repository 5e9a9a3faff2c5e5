"""Which addresses webhooks may reach: every special-purpose range, and IPv6 carrying IPv4."""

from __future__ import annotations

import ipaddress

import pytest

from catalog.webhooks.addresses import (
    IPV4_OTHER,
    IPV4_SPECIAL,
    IPV6_EMBEDDING,
    IPV6_OTHER,
    IPV6_SPECIAL,
    Embedding,
    Range,
    refusal,
)

REFUSED_RANGES = IPV4_SPECIAL + IPV4_OTHER + IPV6_SPECIAL + IPV6_OTHER
NON_PUBLIC_IPV4 = (
    "0.0.0.0",  # noqa: S104 - an address refused, not bound
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.169.254",  # the instance metadata service
    "172.31.255.255",
    "192.0.0.8",
    "192.0.0.9",  # "globally reachable" in the registry, refused all the same
    "192.168.1.1",
    "198.18.0.1",
    "224.0.0.1",
    "255.255.255.255",
)
PUBLIC_IPV4 = ("93.184.215.14", "8.8.8.8")


def samples(prefix: str) -> dict[str, str]:
    """The first, a middle and the last address of a range."""
    network = ipaddress.ip_network(prefix)
    middle = network.network_address + network.num_addresses // 2
    return {"first": str(network[0]), "middle": str(middle), "last": str(network[-1])}


def carrying(embedding: Embedding, ipv4: tuple[str, ...], position: str) -> str:
    """An address of `embedding`'s prefix carrying `ipv4`; its other host bits all clear
    (first), all set (last), or only the highest set (middle)."""
    network = ipaddress.IPv6Network(embedding.prefix)
    carried_bits = 0
    value = int(network.network_address)
    for (shift, inverted), address in zip(embedding.carried, ipv4, strict=True):
        bits = int(ipaddress.IPv4Address(address))
        value |= ((~bits if inverted else bits) & 0xFFFFFFFF) << shift
        carried_bits |= 0xFFFFFFFF << shift
    free = int(network.hostmask) & ~carried_bits
    if position == "last":
        value |= free
    elif position == "middle" and free:
        value |= 1 << (free.bit_length() - 1)
    return str(ipaddress.IPv6Address(value))


def named_range(reason: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(reason.split(" ", 1)[0])


@pytest.mark.parametrize(
    ("row", "address"),
    [(row, address) for row in REFUSED_RANGES for address in samples(row.prefix).values()],
    ids=[f"{row.prefix}-{position}" for row in REFUSED_RANGES for position in samples(row.prefix)],
)
def test_every_address_of_a_special_purpose_range_is_refused(row: Range, address: str) -> None:
    # Given the first, a middle or the last address of a range of the tables
    # When it is judged
    reason = refusal(address)
    # Then it is refused, naming its range or a more specific one inside it
    assert reason is not None
    named = named_range(reason)
    assert ipaddress.ip_address(address) in named
    assert named.prefixlen >= ipaddress.ip_network(row.prefix).prefixlen


@pytest.mark.parametrize("position", ["first", "middle", "last"])
@pytest.mark.parametrize("ipv4", NON_PUBLIC_IPV4)
@pytest.mark.parametrize("embedding", IPV6_EMBEDDING, ids=lambda e: e.prefix)
def test_an_ipv6_address_carrying_a_non_public_ipv4_is_refused(
    embedding: Embedding, ipv4: str, position: str
) -> None:
    # Given an IPv6 address of a prefix that carries IPv4, carrying a non-public one
    # (for Teredo, as the client behind a public server)
    carried = (PUBLIC_IPV4[0], ipv4) if len(embedding.carried) == 2 else (ipv4,)
    address = carrying(embedding, carried, position)
    # When it is judged
    reason = refusal(address)
    # Then it is refused for the IPv4 address it carries (or as a more specific range
    # inside the prefix: ::0.0.0.0 is the unspecified address)
    assert reason is not None
    named = named_range(reason)
    assert ipaddress.ip_address(address) in named
    if named == ipaddress.ip_network(embedding.prefix):
        assert f"carrying {ipv4}: " in reason
    else:
        assert named.prefixlen > named_range(embedding.prefix).prefixlen


@pytest.mark.parametrize("ipv4", PUBLIC_IPV4)
@pytest.mark.parametrize("embedding", IPV6_EMBEDDING, ids=lambda e: e.prefix)
def test_an_ipv6_address_carrying_a_public_ipv4_is_judged_by_it(
    embedding: Embedding, ipv4: str
) -> None:
    # Given an IPv6 address of a prefix that carries IPv4, carrying only public ones
    address = carrying(embedding, (ipv4,) * len(embedding.carried), "middle")
    # When it is judged / Then it is public, as its IPv4 address is
    assert refusal(address) is None


def test_a_teredo_address_with_a_non_public_server_is_refused() -> None:
    # Given a Teredo address whose server is private and whose client is public
    teredo = next(e for e in IPV6_EMBEDDING if e.prefix == "2001::/32")
    address = carrying(teredo, ("10.0.0.1", PUBLIC_IPV4[0]), "first")
    # When it is judged / Then it is refused for its server
    assert "carrying 10.0.0.1: 10.0.0.0/8" in str(refusal(address))


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64
        "64:ff9b::169.254.169.254",
        "::a9fe:a9fe",  # IPv4-compatible
        "::169.254.169.254",
        "::ffff:0:a9fe:a9fe",  # IPv4-translated
        "2002:a9fe:a9fe::",  # 6to4
        "2002:a9fe:a9fe:ffff:ffff:ffff:ffff:ffff",
        "::ffff:169.254.169.254",  # IPv4-mapped, in every spelling
        "::ffff:a9fe:a9fe",
        "::FFFF:A9FE:A9FE",
        "0:0:0:0:0:ffff:a9fe:a9fe",
        "0000:0000:0000:0000:0000:ffff:a9fe:a9fe",
        "::0:ffff:169.254.169.254",
    ],
)
def test_the_metadata_service_is_refused_behind_every_ipv6_form(address: str) -> None:
    # Given 169.254.169.254 written as one of the IPv6 forms that carry IPv4
    # When it is judged / Then it is refused as the link-local address it is
    assert "carrying 169.254.169.254: 169.254.0.0/16 Link Local" in str(refusal(address))


@pytest.mark.parametrize("address", ["fec0::1", "feff:ffff::1", "192.0.0.8", "192.0.0.255"])
def test_ranges_python_3_11_calls_global_are_refused(address: str) -> None:
    # Given site-local and 192.0.0.0/24 addresses, global to Python 3.11's ipaddress
    # When they are judged / Then the table refuses them
    assert refusal(address) is not None


@pytest.mark.parametrize("address", ["4000::1", "1000::1", "e000::1", "fe00::1", "200::1"])
def test_ipv6_outside_global_unicast_is_refused(address: str) -> None:
    # Given IPv6 space IANA has not allocated (Python calls most of it global)
    # When it is judged / Then it is refused as outside 2000::/3
    assert str(refusal(address)).startswith("outside 2000::/3")


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:81b::200e"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(address) is None


@pytest.mark.parametrize("address", ["fe80::1%eth0", "not-an-address", "", "1.2.3"])
def test_scoped_and_malformed_addresses_are_refused(address: str) -> None:
    assert refusal(address) is not None


def test_each_table_row_is_a_distinct_range_citing_its_rfc() -> None:
    # Given every row of the tables
    rows = [*REFUSED_RANGES, *IPV6_EMBEDDING]
    # Then each is a network written in its own canonical form, once, with an RFC
    assert all(str(ipaddress.ip_network(row.prefix)) == row.prefix for row in rows)
    assert len({row.prefix for row in rows}) == len(rows)
    assert all(row.rfc.startswith("RFC ") for row in rows)


# The registries' address blocks, written out apart from the module's tables (IANA IPv4
# and IPv6 Special-Purpose Address Registries, 2025-10): dropping a row fails here.
IANA_IPV4_SPECIAL = [
    "0.0.0.0/8",
    "0.0.0.0/32",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.9/32",
    "192.0.0.10/32",
    "192.0.0.170/32",
    "192.0.0.171/32",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.88.99.0/24",
    "192.88.99.2/32",
    "192.168.0.0/16",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
]
IANA_IPV6_SPECIAL = [
    "::1/128",
    "::/128",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "100:0:0:1::/64",
    "2001::/23",
    "2001::/32",
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:1::3/128",
    "2001:2::/48",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:10::/28",
    "2001:20::/28",
    "2001:30::/28",
    "2001:db8::/32",
    "2002::/16",
    "2620:4f:8000::/48",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
]


def test_the_tables_hold_every_registry_entry_and_the_other_forms() -> None:
    # Given the tables of the module
    ipv4 = {row.prefix for row in IPV4_SPECIAL}
    ipv6 = {row.prefix for row in IPV6_SPECIAL + IPV6_EMBEDDING}
    # Then they are the registries, plus multicast, site-local and the IPv4-carrying forms
    assert ipv4 == set(IANA_IPV4_SPECIAL)
    assert ipv6 == set(IANA_IPV6_SPECIAL) | {"::/96", "::ffff:0:0:0/96"}
    assert {row.prefix for row in IPV4_OTHER + IPV6_OTHER} == {
        "224.0.0.0/4",
        "fec0::/10",
        "ff00::/8",
    }


@pytest.mark.parametrize(
    "address", ["3fff::1", "3fff:fff:ffff::1", "100:0:0:1::1", "2001:30::1", "2620:4f:8000::1"]
)
def test_registry_entries_newer_than_the_standard_library_are_refused(address: str) -> None:
    # Given addresses of entries (RFC 9637, 9780, 9374, 7534) that some or all of the
    # supported Pythons call global
    # When they are judged / Then they are refused
    assert refusal(address) is not None
