"""Which webhook URLs may be called: the SSRF rules of the cloud stages and of local."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from catalog.webhooks import urls
from catalog.webhooks.delivery import retry_delay
from catalog.webhooks.urls import RefusedUrl, address_allowed, check
from tests.sockets import patch_socket


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make every host resolve to the given addresses (no real DNS in unit tests)."""

    def set_addresses(*addresses: str) -> None:
        def fake(host: str, port: int, **kwargs: Any) -> list[Any]:
            return [(2, 1, 6, "", (a, port)) for a in addresses]

        patch_socket(monkeypatch, urls, getaddrinfo=fake)

    return set_addresses


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.10",
        "169.254.169.254",  # instance metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "::1",
        "fd00:ec2::254",  # instance metadata over IPv6
        "fe80::1",
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_refused_in_the_cloud(address: str) -> None:
    assert not address_allowed(address, allow_local=False)


def test_public_addresses_are_allowed() -> None:
    assert address_allowed("93.184.215.14", allow_local=False)
    assert address_allowed("2606:2800:21f:cb07:6820:80da:af6b:8b2c", allow_local=False)


def test_locally_loopback_is_allowed_but_private_networks_are_not() -> None:
    assert address_allowed("127.0.0.1", allow_local=True)
    assert address_allowed("::1", allow_local=True)
    assert not address_allowed("10.0.0.1", allow_local=True)
    assert not address_allowed("169.254.169.254", allow_local=True)


def test_the_cloud_requires_https(resolves_to: Any) -> None:
    resolves_to("93.184.215.14")
    check("https://hooks.example.com/catalog", allow_local=False)
    with pytest.raises(RefusedUrl, match="https"):
        check("http://hooks.example.com/catalog", allow_local=False)


def test_a_host_resolving_to_any_private_address_is_refused(resolves_to: Any) -> None:
    resolves_to("93.184.215.14", "10.0.0.7")
    with pytest.raises(RefusedUrl, match="non-public"):
        check("https://rebinding.example.com/", allow_local=False)


def test_loopback_names_are_refused_in_the_cloud(resolves_to: Any) -> None:
    resolves_to("127.0.0.1")
    with pytest.raises(RefusedUrl):
        check("https://localhost/hook", allow_local=False)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "https://user:pw@example.com/", "https:///nohost", "x" * 3000]
)
def test_malformed_or_credentialed_urls_are_refused(url: str, resolves_to: Any) -> None:
    resolves_to("93.184.215.14")
    with pytest.raises(RefusedUrl):
        check(url, allow_local=False)


def test_the_target_connects_to_the_checked_address(resolves_to: Any) -> None:
    resolves_to("93.184.215.14")
    target = urls.resolve("https://hooks.example.com/in?x=1", allow_local=False)
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com",
        443,
        "/in?x=1",
        "93.184.215.14",
    )


def test_retry_delays_grow_and_stay_on_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "30,120,600")
    assert [retry_delay(n) for n in (1, 2, 3, 4, 9)] == [30, 120, 600, 600, 600]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://hooks.example.com/a b", "a space at character 28"),
        ("https://hooks.example.com/a\tb", "a tab"),
        ("https://hooks.example.com/\r\nHost: evil", "a CR"),
        ("https://hooks.example.com/\nx", "an LF"),
        ("https://hooks.example.com/\x00", "a NUL"),
        ("https://hooks.example.com/\x7f", "a control character (U+007F)"),
        ("https://b\u00fccher.example/", "a non-ASCII character (U+00FC)"),
        ("HTTPS://hooks.example.com/", "scheme must be lower-case"),
        ("https://Hooks.Example.com/", "host must be lower-case: 'hooks.example.com'"),
        ("https://hooks.example.com./", "may not end with a dot"),
        ("https://hooks..example.com/", "invalid label ''"),
        ("https://-hooks.example.com/", "invalid label '-hooks'"),
        ("https://hooks_in.example.com/", "invalid label 'hooks_in'"),
        ("https://hooks.example.com:443/", "leave out the default port :443"),
        ("https://hooks.example.com:0443/", "without leading zeros"),
        ("https://hooks.example.com:/", "without leading zeros"),
        ("https://hooks.example.com:65536/", "from 1 to 65535"),
        ("https://user@hooks.example.com/", "credentials"),
        ("https://:@hooks.example.com/", "credentials"),
        ("https://hooks.example.com", "needs a path"),
        ("https://hooks.example.com?x=1", "needs a path"),
        ("https://hooks.example.com/%7Euser", "%7E encodes '~'"),
        ("https://hooks.example.com/%68ooks", "%68 encodes 'h'"),
        ("https://hooks.example.com/a%2fb", "upper case: %2F"),
        ("https://hooks.example.com/100%", "must start a percent-escape"),
        ("https://hooks.example.com/%zz", "must start a percent-escape"),
        ("https://hooks.example.com/a/../admin", "'.' or '..' segment"),
        ("https://hooks.example.com/./in", "'.' or '..' segment"),
        ("https://hooks.example.com/in?", "query is empty"),
        ("https://hooks.example.com/in#part", "fragment"),
        ("https://hooks.example.com/a\\b", "the path contains '\\\\'"),
        ("https://hooks.example.com/{x}", "the path contains '{'"),
        ("https://hooks.example.com/in?q=<x>", "the query contains '<'"),
        ("https://127.1/", "reads as an IPv4 address"),
        ("https://0x7f.0.0.1/", "reads as an IPv4 address"),
        ("https://2130706433/", "reads as an IPv4 address"),
        ("https://127.000.000.001/", "reads as an IPv4 address"),
        ("https://hooks.example.0x1/", "reads as an IPv4 address"),
        ("https://[::ffff:169.254.169.254]/", "in hexadecimal: [::ffff:a9fe:a9fe]"),
        ("https://[::FFFF:A9FE:A9FE]/", "RFC 5952 form: [::ffff:a9fe:a9fe]"),
        ("https://[0:0:0:0:0:ffff:a9fe:a9fe]/", "RFC 5952 form: [::ffff:a9fe:a9fe]"),
        ("https://[2001:db8:0:0:1:0:0:1]/", "RFC 5952 form: [2001:db8::1:0:0:1]"),
        ("https://[2001:0db8::1]/", "RFC 5952 form: [2001:db8::1]"),
        ("https://[fe80::1%25eth0]/", "zone"),
        ("https://[::1/", "closing ']'"),
        ("https://[nope]/", "not an IPv6 address"),
        ("hooks.example.com/in", "must start with https://"),
        ("http://hooks.example.com/", "must start with https://"),
    ],
)
def test_urls_not_in_canonical_form_are_refused(url: str, reason: str) -> None:
    # Given a URL that is not printable ASCII in its canonical form
    # When it is checked (no lookup happens: the form is refused first)
    with pytest.raises(RefusedUrl) as refused:
        urls.parse(url, allow_local=False)
    # Then it is refused, saying why
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("https://hooks.example.com/", ("hooks.example.com", 443, "/")),
        (
            "https://hooks.example.com:8443/in?a=1&b=%2F",
            ("hooks.example.com", 8443, "/in?a=1&b=%2F"),
        ),
        (
            "https://xn--bcher-kva.example/a//b;c=d/@x:y",
            ("xn--bcher-kva.example", 443, "/a//b;c=d/@x:y"),
        ),
        (
            "https://hooks.example.com/%20space?q=a?b/c",
            ("hooks.example.com", 443, "/%20space?q=a?b/c"),
        ),
        ("https://93.184.215.14/in", ("93.184.215.14", 443, "/in")),
        ("https://[2606:4700:4700::1111]:8443/", ("2606:4700:4700::1111", 8443, "/")),
        ("https://[2001:db8::1:0:0:1]/", ("2001:db8::1:0:0:1", 443, "/")),
        ("https://localhost/", ("localhost", 443, "/")),
    ],
)
def test_canonical_urls_are_taken_as_written(url: str, parts: tuple[str, int, str]) -> None:
    # Given a canonical https URL
    # When it is parsed
    parsed = urls.parse(url, allow_local=False)
    # Then its parts are those written: nothing was rewritten
    assert (parsed.host, parsed.port, parsed.path) == parts


def test_locally_http_is_canonical_too_and_keeps_its_rules() -> None:
    # Given the local stage
    # When http URLs are parsed / Then http is taken, with its own default port rule
    assert urls.parse("http://127.0.0.1:8001/hooks", allow_local=True).port == 8001
    with pytest.raises(RefusedUrl, match="default port :80"):
        urls.parse("http://127.0.0.1:80/hooks", allow_local=True)
    with pytest.raises(RefusedUrl, match="https:// or http://"):
        urls.parse("ftp://127.0.0.1/hooks", allow_local=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://" + "a" * 1500 + ".example.com/",
        "https://" + "a" * 200 + "_.example.com/",
        "https://" + "A" * 240 + "/",
        "https://hooks.example.com/" + "x" * 1900 + " ",
        "https://[" + "1" * 1900 + "]/",
    ],
)
def test_a_refusal_quotes_at_most_100_characters_of_the_url(url: str) -> None:
    # Given a long URL that is refused
    with pytest.raises(RefusedUrl) as refused:
        urls.parse(url, allow_local=False)
    # Then the reason quotes no more than 100 of its characters
    message = str(refused.value)
    assert len(message) < 300
    assert not any(url[i : i + 101] in message for i in range(len(url) - 100))


def test_ipv6_text_is_rfc_5952_on_every_python() -> None:
    # Given addresses with zero runs of every length and position (none IPv4-mapped,
    # which Python 3.13 alone writes with a dotted tail)
    cases = ["::", "::1", "1::", "1:0:0:2::3", "1:0:2:0:0:3:0:0", "1:2:3:4:5:6:7:8", "0:1::"]
    cases += [f"{a:x}:0:{b:x}::{c:x}" for a, b, c in [(1, 2, 3), (0xFFFF, 0, 9)]]
    for text in cases:
        address = ipaddress.IPv6Address(text)
        # When it is written / Then it is RFC 5952's one form, as ipaddress writes it
        assert urls._rfc5952(address) == str(address)
    assert urls._rfc5952(ipaddress.IPv6Address("::ffff:1.2.3.4")) == "::ffff:102:304"


def test_ip_literals_are_checked_without_a_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no DNS at all
    def no_dns(*args: Any, **kwargs: Any) -> list[Any]:
        raise AssertionError("an IP literal was looked up")

    patch_socket(monkeypatch, urls, getaddrinfo=no_dns)
    # When IP-literal URLs are checked
    target = urls.resolve("https://[2606:4700:4700::1111]/in", allow_local=False)
    # Then a public one is its own target, and one carrying the metadata address is refused
    assert target.address == "2606:4700:4700::1111"
    for url in (
        "https://[::ffff:a9fe:a9fe]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:a9fe:a9fe::]/",
    ):
        with pytest.raises(RefusedUrl, match="non-public"):
            check(url, allow_local=False)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",
        "::a9fe:a9fe",
        "::ffff:0:a9fe:a9fe",
        "2002:a9fe:a9fe::",
        "fec0::1",
        "192.0.0.8",
    ],
)
def test_hosts_resolving_to_ipv6_forms_of_private_addresses_are_refused(
    address: str, resolves_to: Any
) -> None:
    # Given a name resolving to an address the ::ffff:-only filter let through
    resolves_to(address)
    # When it is checked / Then it is refused
    with pytest.raises(RefusedUrl, match="non-public"):
        check("https://hooks.example.com/in", allow_local=False)
