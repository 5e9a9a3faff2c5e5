"""HTTP conditional requests: ETags from versions, If-Match and If-None-Match."""

from __future__ import annotations

from catalog.core.errors import BadRequest


def etag(version: int) -> str:
    """A strong entity tag for one version of a resource."""
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an `If-Match` header accepts; None when it sets no condition (absent or
    `*`, the resource existing being checked anyway). Weak tags never match (RFC 9110)."""
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in _tags(header):
        if tag.startswith("W/"):
            continue
        if not (tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit()):
            raise BadRequest("If-Match takes entity tags as sent in ETag, e.g. If-Match: '\"3\"'.")
        versions.add(int(tag[1:-1]))
    return frozenset(versions)


def none_match(header: str | None, version: int) -> bool:
    """Whether `If-None-Match` matches the current version (weak comparison, RFC 9110)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    current = etag(version)
    return any(tag.removeprefix("W/") == current for tag in _tags(header))
