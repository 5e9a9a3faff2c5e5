"""Which webhook URLs may be called (SSRF): canonical https URLs of public hosts, in the cloud.

A URL is checked when it is registered (its syntax by the schema, then its addresses by
the service) and again, after resolving its host, right before each delivery; the
delivery then connects to the very address that was checked (no second DNS lookup an
attacker could answer differently). Which addresses are public: catalog.webhooks.addresses.
Locally (stage setting), http and loopback addresses are allowed so tests can run a
receiver on 127.0.0.1.

A URL must already be in its canonical form; nothing is rewritten, so the URL stored is
byte for byte the URL called, and no two parsers can read it differently:
- at most 2,048 characters, each printable ASCII (U+0021 to U+007E): no space, tab, CR,
  LF, NUL or other control character, no DEL, nothing non-ASCII (a host in punycode,
  `xn--...`, anything else percent-encoded);
- `scheme://host[:port]/path[?query]`: the scheme lower-case `https` (or `http` where
  local URLs are allowed); no userinfo (`user@`), no fragment (`#`);
- the host a lower-case DNS name (dot-separated labels of a-z, 0-9 and inner hyphens, 1
  to 63 characters each, 253 in all, no empty label, no trailing dot; the last label not
  all digits nor `0x...`, which WHATWG parsers read as an IPv4 number), an IPv4 address
  as four decimal numbers without leading zeros (`127.0.0.1`, never `127.1`, `0x7f.0.0.1`
  or `2130706433`), or an IPv6 address in brackets in its RFC 5952 section 4 text
  (lower-case, no leading zeros, `::` for the longest run of two or more zero groups;
  no zone, no dotted IPv4 tail);
- a port, if any, in decimal from 1 to 65535 without leading zeros, and not the
  scheme's default (443, or 80 for http);
- a path starting with `/` (the root is `https://host/`), with no `.` or `..` segment;
  path and query made of RFC 3986 characters (unreserved, sub-delims, `:`, `@`, `/`, and
  `?` in the query), no empty query (a lone `?`); `%` only as a percent-escape of two
  upper-case hex digits that does not encode an unreserved character (`%41` is `A`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from typing import NamedTuple

from catalog.webhooks import addresses

MAX_URL_LENGTH = 2048
MAX_QUOTED = 100  # characters of a refused URL's part quoted in a message
DEFAULT_PORTS = {"https": 443, "http": 80}


class RefusedUrl(ValueError):
    """The URL may not be called; the message says why (safe to show to an admin)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked IP address to connect to


class Parts(NamedTuple):
    scheme: str
    host: str  # an IPv6 address without its brackets
    port: int  # the scheme's default when the URL names none
    path: str  # path and query, as sent in the request line


def allow_local_urls() -> bool:
    return os.environ.get("WEBHOOK_ALLOW_LOCAL_URLS", "false").lower() == "true"


def quoted(text: str) -> str:
    """`text` quoted for a message, cut to MAX_QUOTED characters: input is never echoed whole."""
    return repr(text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "...")


_NOT_PRINTABLE = re.compile(r"[^!-~]")
_NAMED = {" ": "a space", "\t": "a tab", "\r": "a CR", "\n": "an LF", "\x00": "a NUL"}
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_DOTTED_QUAD = re.compile(r"(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
_UNRESERVED = r"A-Za-z0-9\-._~"
_PATH_CHARS = _UNRESERVED + r"!$&'()*+,;=:@/%"
_OUTSIDE_PATH = re.compile(f"[^{_PATH_CHARS}]")
_OUTSIDE_QUERY = re.compile(f"[^{_PATH_CHARS}?]")
_ESCAPE = re.compile(r"%(.?.?)")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_UNRESERVED_CHAR = re.compile(f"[{_UNRESERVED}]")


def _printable(url: str) -> None:
    found = _NOT_PRINTABLE.search(url)
    if found is None:
        return
    char = found.group()
    what = _NAMED.get(char) or (
        f"a non-ASCII character (U+{ord(char):04X})"
        if ord(char) > 0x7F
        else f"a control character (U+{ord(char):04X})"
    )
    raise RefusedUrl(
        f"the URL contains {what} at character {found.start() + 1}: a webhook URL is"
        " printable ASCII (percent-encode the rest, write the host in punycode)"
    )


def _rfc5952(ip: ipaddress.IPv6Address) -> str:
    """RFC 5952 section 4 text, computed here: Python 3.13 writes IPv4-mapped ones dotted."""
    groups = [(int(ip) >> (112 - 16 * n)) & 0xFFFF for n in range(8)]
    best, best_length, start = -1, 1, -1
    for n, group in enumerate([*groups, 1]):  # the sentinel ends a trailing run
        if group == 0 and start < 0:
            start = n
        elif group != 0 and start >= 0:
            if n - start > best_length:
                best, best_length = start, n - start
            start = -1
    hexes = [f"{group:x}" for group in groups]
    if best < 0:
        return ":".join(hexes)
    return ":".join(hexes[:best]) + "::" + ":".join(hexes[best + best_length :])


def _ipv6_host(literal: str) -> str:
    if "%" in literal:
        raise RefusedUrl("the IPv6 address may not carry a zone")
    try:
        ip = ipaddress.IPv6Address(literal)
    except ValueError:
        raise RefusedUrl(f"the host {quoted(f'[{literal}]')} is not an IPv6 address") from None
    if "." in literal:
        raise RefusedUrl(f"write the IPv6 address in hexadecimal: [{_rfc5952(ip)}]")
    if literal != _rfc5952(ip):
        raise RefusedUrl(f"write the IPv6 address in its RFC 5952 form: [{_rfc5952(ip)}]")
    return literal


def _name_host(host: str) -> str:
    if not host:
        raise RefusedUrl("the URL has no host")
    if host != host.lower():
        raise RefusedUrl(f"the host must be lower-case: {quoted(host.lower())}")
    if host.endswith("."):
        raise RefusedUrl("the host may not end with a dot")
    if len(host) > 253:
        raise RefusedUrl("the host is longer than 253 characters")
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # A name ending in a number is an IPv4 address to WHATWG parsers (127.1, 0x7f.1):
        # only the one spelling every parser reads alike is taken.
        if not _DOTTED_QUAD.fullmatch(host) or not _is_ip(host):
            raise RefusedUrl(
                f"the host {quoted(host)} reads as an IPv4 address: write it as four"
                " decimal numbers without leading zeros"
            )
        return host
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise RefusedUrl(
                f"the host {quoted(host)} has an invalid label {quoted(label)}: labels are"
                " 1 to 63 of a-z, 0-9 and inner hyphens"
            )
    return host


def _host_and_port(authority: str, scheme: str) -> tuple[str, int]:
    if "@" in authority:
        raise RefusedUrl("the URL may not carry credentials")
    if authority.startswith("["):
        literal, bracket, after = authority[1:].partition("]")
        if not bracket:
            raise RefusedUrl("the IPv6 address has no closing ']'")
        host = _ipv6_host(literal)
        if after and not after.startswith(":"):
            raise RefusedUrl("only a ':port' may follow the host")
        port_text = after[1:] if after else None
    else:
        name, colon, port_text_or_empty = authority.partition(":")
        host = _name_host(name)
        port_text = port_text_or_empty if colon else None
    if port_text is None:
        return host, DEFAULT_PORTS[scheme]
    if not _PORT.fullmatch(port_text) or int(port_text) > 65535:
        raise RefusedUrl("the port must be a number from 1 to 65535 without leading zeros")
    if int(port_text) == DEFAULT_PORTS[scheme]:
        raise RefusedUrl(f"leave out the default port :{port_text} of {scheme}")
    return host, int(port_text)


def _escapes(part: str, where: str) -> None:
    for escape in _ESCAPE.finditer(part):
        digits = escape.group(1)
        if not _HEX2.fullmatch(digits):
            raise RefusedUrl(f"a '%' in the {where} must start a percent-escape (%XX)")
        if _UNRESERVED_CHAR.fullmatch(chr(int(digits, 16))):
            raise RefusedUrl(
                f"%{digits} encodes {chr(int(digits, 16))!r}: write the character itself"
            )
        if digits != digits.upper():
            raise RefusedUrl(f"write percent-escapes in upper case: %{digits.upper()}")


def _path_and_query(tail: str) -> str:
    path, question, query = tail.partition("?")
    if not path.startswith("/"):
        raise RefusedUrl("the URL needs a path: the root is written 'https://host/'")
    for part, where, outside in ((path, "path", _OUTSIDE_PATH), (query, "query", _OUTSIDE_QUERY)):
        found = outside.search(part)
        if found is not None:
            raise RefusedUrl(f"the {where} contains {found.group()!r}: percent-encode it")
        _escapes(part, where)
    if any(segment in (".", "..") for segment in path.split("/")):
        raise RefusedUrl("the path has a '.' or '..' segment: write the path it stands for")
    if question and not query:
        raise RefusedUrl("the query is empty: leave out the '?'")
    return tail


def parse(url: str, allow_local: bool | None = None) -> Parts:
    """The parts of `url`, or RefusedUrl unless it is a canonical URL this stage may call."""
    local = allow_local_urls() if allow_local is None else allow_local
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    _printable(url)
    scheme, separator, rest = url.partition("://")
    schemes = ("https", "http") if local else ("https",)
    if scheme.lower() in schemes and scheme != scheme.lower():
        raise RefusedUrl(f"the scheme must be lower-case: {scheme.lower()}")
    if not separator or scheme not in schemes:
        raise RefusedUrl(f"the URL must start with {' or '.join(s + '://' for s in schemes)}")
    if "#" in rest:
        raise RefusedUrl("the URL may not have a fragment")
    split = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    host, port = _host_and_port(rest[:split], scheme)
    return Parts(scheme, host, port, _path_and_query(rest[split:]))


def address_allowed(address: str, allow_local: bool) -> bool:
    if allow_local and _loopback(address):
        return True
    return addresses.is_public(address)


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(url: str, allow_local: bool | None = None) -> Target:
    """Check `url` and the addresses its host resolves to; the target to connect to."""
    local = allow_local_urls() if allow_local is None else allow_local
    scheme, host, port, path = parse(url, local)
    if _is_ip(host):
        addresses_found = [host]  # a literal: nothing to look up
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise RefusedUrl(f"the host {quoted(host)} does not resolve") from error
        addresses_found = sorted({str(info[4][0]) for info in infos})
    if not addresses_found:
        raise RefusedUrl(f"the host {quoted(host)} does not resolve")
    if not all(address_allowed(a, local) for a in addresses_found):
        # All or nothing: a host with one private address could be steered to it. Which
        # address and why stay unsaid: the answer would map internal names for a caller.
        raise RefusedUrl(f"the host {quoted(host)} resolves to a non-public address")
    return Target(scheme, host, port, path, addresses_found[0])


def check(url: str, allow_local: bool | None = None) -> None:
    """Raise RefusedUrl unless `url` may be registered."""
    resolve(url, allow_local)
