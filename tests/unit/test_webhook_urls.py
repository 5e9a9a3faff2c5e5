"""Which webhook URLs may be called: the SSRF rules of the cloud stages and of local."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.webhooks import urls
from catalog.webhooks.delivery import retry_delay
from catalog.webhooks.urls import RefusedUrl, address_allowed, check


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make every host resolve to the given addresses (no real DNS in unit tests)."""

    def set_addresses(*addresses: str) -> None:
        def fake(host: str, port: int, **kwargs: Any) -> list[Any]:
            return [(2, 1, 6, "", (a, port)) for a in addresses]

        monkeypatch.setattr(urls.socket, "getaddrinfo", fake)

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
