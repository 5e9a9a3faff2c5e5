"""RS256 verification without cryptography (catalog.identity.tokens) and the claim checks of
catalog.identity.principal, against tokens signed by an independent implementation (PyJWT with
cryptography, which the dev environment has through moto)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from catalog.core import settings
from catalog.identity import principal as auth
from catalog.identity.tokens import KeySet, KeySetUnavailable, verified_payload

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_unit"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwk(private: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = private.public_key().public_numbers()
    return {
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": kid,
        "n": _b64(numbers.n),
        "e": _b64(numbers.e),
    }


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeJwks:
    """The pool's JWKS endpoint: which keys it publishes, and how often it was asked."""

    def __init__(self, *jwks: dict[str, str]) -> None:
        self.keys = list(jwks)
        self.calls = 0
        self.down = False

    def __call__(self, url: str, timeout: float) -> Any:
        self.calls += 1
        if self.down:
            raise OSError("connection refused")
        return {"keys": self.keys}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "user-1",
        "iss": ISSUER,
        "token_use": "access",
        "client_id": "unit-client",
        "scope": "catalog/api",
        "iat": now - 10,
        "exp": now + 600,
        **overrides,
    }


def sign(private: rsa.RSAPrivateKey, payload: dict[str, Any], kid: str = "k1", **kw: Any) -> str:
    return jwt.encode(
        payload, private, algorithm=kw.pop("algorithm", "RS256"), headers={"kid": kid, **kw}
    )


def test_a_token_signed_by_the_pool_verifies(pool_key: rsa.RSAPrivateKey) -> None:
    keys = KeySet("jwks", fetch=FakeJwks(_jwk(pool_key, "k1")))
    assert verified_payload(sign(pool_key, claims()), keys)["sub"] == "user-1"


def _flip(segment: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    raw[-1] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("part", [1, 2])
def test_a_changed_payload_or_signature_fails(pool_key: rsa.RSAPrivateKey, part: int) -> None:
    keys = KeySet("jwks", fetch=FakeJwks(_jwk(pool_key, "k1")))
    segments = sign(pool_key, claims()).split(".")
    segments[part] = _flip(segments[part])
    with pytest.raises(jwt.InvalidTokenError):
        verified_payload(".".join(segments), keys)


def test_a_token_signed_by_another_key_under_the_pools_kid_fails(
    pool_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    keys = KeySet("jwks", fetch=FakeJwks(_jwk(pool_key, "k1")))
    with pytest.raises(jwt.InvalidTokenError):
        verified_payload(sign(other_key, claims()), keys)


def _forged(header: dict[str, Any], payload: dict[str, Any], signature: bytes) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join(
        [part(json.dumps(header).encode()), part(json.dumps(payload).encode()), part(signature)]
    )


def test_alg_none_and_hmac_with_the_public_key_are_refused(pool_key: rsa.RSAPrivateKey) -> None:
    keys = KeySet("jwks", fetch=FakeJwks(_jwk(pool_key, "k1")))
    with pytest.raises(jwt.InvalidTokenError):
        verified_payload(_forged({"alg": "none", "kid": "k1"}, claims(), b""), keys)
    modulus = _jwk(pool_key, "k1")["n"].encode()  # public: anyone could MAC with it
    hs256 = jwt.encode(claims(), modulus, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(jwt.InvalidTokenError):
        verified_payload(hs256, keys)


def test_a_pkcs1_signature_over_sha1_does_not_pass_as_rs256(pool_key: rsa.RSAPrivateKey) -> None:
    keys = KeySet("jwks", fetch=FakeJwks(_jwk(pool_key, "k1")))
    header, payload = {"alg": "RS256", "kid": "k1", "typ": "JWT"}, claims()
    unsigned = _forged(header, payload, b"").rsplit(".", 1)[0]
    sha1 = pool_key.sign(unsigned.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    with pytest.raises(jwt.InvalidTokenError):
        verified_payload(_forged(header, payload, sha1), keys)
    sha256 = pool_key.sign(unsigned.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert verified_payload(_forged(header, payload, sha256), keys)["sub"] == "user-1"


def test_an_unknown_kid_fetches_the_keys_again_at_most_once_a_minute(
    pool_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    now = [1000.0]
    jwks = FakeJwks(_jwk(pool_key, "k1"))
    keys = KeySet("jwks", fetch=jwks, clock=lambda: now[0])
    verified_payload(sign(pool_key, claims()), keys)
    verified_payload(sign(pool_key, claims()), keys)
    assert jwks.calls == 1  # kept
    jwks.keys.append(_jwk(other_key, "k2"))  # the pool rotates
    rotated = sign(other_key, claims(), kid="k2")
    with pytest.raises(jwt.InvalidTokenError):
        verified_payload(rotated, keys)  # within the minute: no fetch for a kid it lacks
    assert jwks.calls == 1
    now[0] += 61
    assert verified_payload(rotated, keys)["sub"] == "user-1"
    assert jwks.calls == 2
    for _ in range(5):  # made-up kids do not become a flood of fetches
        with pytest.raises(jwt.InvalidTokenError):
            verified_payload(sign(other_key, claims(), kid="made-up"), keys)
    assert jwks.calls == 2
    now[0] += 3600  # stale after an hour, even for known kids
    verified_payload(sign(pool_key, claims()), keys)
    assert jwks.calls == 3


def test_unreachable_keys_are_a_server_fault_not_an_invalid_token(
    pool_key: rsa.RSAPrivateKey,
) -> None:
    jwks = FakeJwks(_jwk(pool_key, "k1"))
    jwks.down = True
    with pytest.raises(KeySetUnavailable):
        verified_payload(sign(pool_key, claims()), KeySet("jwks", fetch=jwks))


@pytest.fixture
def pool(pool_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """catalog.identity.principal configured for a pool whose JWKS is `pool_key`."""
    monkeypatch.setenv("COGNITO_ISSUER", ISSUER)
    monkeypatch.setenv("COGNITO_CLIENT_ID", "unit-client")
    settings.settings.cache_clear()
    auth._key_set.cache_clear()
    monkeypatch.setattr(
        auth, "_key_set", lambda: KeySet("jwks", fetch=FakeJwks(_jwk(pool_key, "k1")))
    )
    yield
    settings.settings.cache_clear()


def test_the_authorizer_checks_accept_a_good_token(pool: None, pool_key: rsa.RSAPrivateKey) -> None:
    scope = settings.settings().cognito_access_scope
    principal = auth.principal_from_claims(
        auth.verify_signed_token(sign(pool_key, claims(scope=scope)))
    )
    assert principal.sub == "user-1"


@pytest.mark.parametrize(
    "change",
    [
        {"exp": -1},  # expired (relative to now)
        {"iat": 120},  # issued in the future
        {"nbf": 120},  # not yet valid
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"},
        {"exp": "soon"},
        {"scope": "openid"},
    ],
)
def test_the_authorizer_checks_refuse_bad_claims(
    pool: None, pool_key: rsa.RSAPrivateKey, change: dict[str, Any]
) -> None:
    scope = settings.settings().cognito_access_scope
    now = int(time.time())
    relative = {k: now + v if isinstance(v, int) else v for k, v in change.items()}
    with pytest.raises(auth.Unauthorized):
        auth.verify_signed_token(sign(pool_key, {**claims(scope=scope), **relative}))


@pytest.mark.parametrize("missing", auth.REQUIRED_CLAIMS)
def test_each_required_claim_must_be_present(
    pool: None, pool_key: rsa.RSAPrivateKey, missing: str
) -> None:
    scope = settings.settings().cognito_access_scope
    payload = claims(scope=scope)
    del payload[missing]
    with pytest.raises(auth.Unauthorized):
        auth.verify_signed_token(sign(pool_key, payload))
