"""Which webhook URLs may be called (SSRF): https to public addresses only, in the cloud.

A URL is checked when it is registered and again, after resolving its host, right before
each delivery; the delivery then connects to the very address that was checked (no second
DNS lookup an attacker could answer differently). Locally (stage setting), http and
loopback addresses are allowed so tests can run a receiver on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


class RefusedUrl(ValueError):
    """The URL may not be called; the message says why (safe to show to an admin)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked IP address to connect to


def allow_local_urls() -> bool:
    return os.environ.get("WEBHOOK_ALLOW_LOCAL_URLS", "false").lower() == "true"


def _parse(url: str, allow_local: bool) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedUrl("the URL cannot be parsed") from error
    schemes = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in schemes:
        raise RefusedUrl(f"the URL must use {' or '.join(schemes)}")
    if not parts.hostname:
        raise RefusedUrl("the URL has no host")
    if parts.username or parts.password:
        raise RefusedUrl("the URL may not carry credentials")
    if parts.fragment:
        raise RefusedUrl("the URL may not have a fragment")
    default_port = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or default_port, path


def address_allowed(address: str, allow_local: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_local and ip.is_loopback:
        return True
    # is_global excludes private, loopback, link-local (169.254.169.254, the instance
    # metadata service, among them), shared (100.64/10), reserved and unique-local ranges.
    return ip.is_global and not ip.is_multicast


def resolve(url: str, allow_local: bool | None = None) -> Target:
    """Check `url` and the addresses its host resolves to; the target to connect to."""
    local = allow_local_urls() if allow_local is None else allow_local
    scheme, host, port, path = _parse(url, local)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedUrl(f"the host {host!r} does not resolve") from error
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise RefusedUrl(f"the host {host!r} does not resolve")
    refused = [a for a in addresses if not address_allowed(a, local)]
    if refused:
        # All or nothing: a host with one private address could be steered to it.
        raise RefusedUrl(f"the host {host!r} resolves to a non-public address")
    return Target(scheme, host, port, path, addresses[0])


def check(url: str, allow_local: bool | None = None) -> None:
    """Raise RefusedUrl unless `url` may be registered."""
    resolve(url, allow_local)
