"""RS256 signatures of Cognito tokens, checked without the cryptography package.

PyJWT parses the JWS (header, payload, signature; the `alg` allow-list); `rsa`, a pure-Python
library, checks the PKCS#1 v1.5 signature by recomputing the expected encoding and comparing
it in constant time. Cognito signs only with RS256, and verifying needs nothing more than one
modular exponentiation, so the layer ships neither a 5 MiB cryptography build nor its OpenSSL
bindings, and a function that verifies a token does not load them on its cold start.

The pool's keys come from its JWKS URL (`KeySet`), are kept for an hour, and an unknown `kid`
(a rotation) fetches them again, at most once a minute.
"""

from __future__ import annotations

import json
import threading
import time
from base64 import urlsafe_b64decode
from collections.abc import Callable
from typing import Any

import rsa
from jwt.algorithms import Algorithm
from jwt.api_jws import PyJWS
from jwt.exceptions import InvalidKeyError, InvalidTokenError

ALGORITHM = "RS256"


class KeySetUnavailable(Exception):
    """The pool's JWKS could not be fetched: a server fault, not the caller's."""


class _RS256(Algorithm):
    """RSASSA-PKCS1-v1_5 with SHA-256, verification only."""

    def prepare_key(self, key: Any) -> rsa.PublicKey:
        if not isinstance(key, rsa.PublicKey):
            raise InvalidKeyError("RS256 verification takes an rsa.PublicKey.")
        return key

    def sign(self, msg: bytes, key: Any) -> bytes:
        raise NotImplementedError("This service verifies tokens; Cognito signs them.")

    def verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        try:
            # rsa answers which hash the signature encodes: a SHA-1 signature must not pass.
            return bool(rsa.verify(msg, sig, key) == "SHA-256")
        except rsa.VerificationError:
            return False

    @staticmethod
    def to_jwk(key_obj: Any, as_dict: bool = False) -> Any:
        raise NotImplementedError("Keys are only read from the pool's JWKS.")

    @staticmethod
    def from_jwk(jwk: Any) -> rsa.PublicKey:
        data = json.loads(jwk) if isinstance(jwk, str) else jwk
        if data.get("kty") != "RSA" or data.get("alg", ALGORITHM) != ALGORITHM:
            raise InvalidKeyError("Not an RS256 key.")
        return rsa.PublicKey(_b64_int(data["n"]), _b64_int(data["e"]))


def _b64_int(text: str) -> int:
    return int.from_bytes(urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


_JWS = PyJWS(algorithms=[])  # no defaults: RS256 below is the only algorithm accepted
_JWS.register_algorithm(ALGORITHM, _RS256())


def _fetch_json(url: str, timeout: float) -> Any:
    import urllib.request  # only a token-carrying request of a fresh process pays for it

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (settings URL)
        return json.loads(response.read())


class KeySet:
    """The signing keys of a user pool by `kid`, from its JWKS URL."""

    def __init__(
        self,
        url: str,
        lifespan: float = 3600,
        refetch_after: float = 60,
        timeout: float = 5,
        fetch: Callable[[str, float], Any] = _fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url, self._lifespan, self._refetch_after = url, lifespan, refetch_after
        self._timeout, self._fetch, self._clock = timeout, fetch, clock
        self._keys: dict[str, rsa.PublicKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> rsa.PublicKey:
        with self._lock:
            age = None if self._fetched_at is None else self._clock() - self._fetched_at
            stale = age is None or age >= self._lifespan
            rotated = kid not in self._keys and (age is None or age >= self._refetch_after)
            if stale or rotated:
                self._refresh()
            found = self._keys.get(kid)
        if found is None:
            raise InvalidTokenError("The token names a key the pool does not publish.")
        return found

    def _refresh(self) -> None:
        try:
            document = self._fetch(self._url, self._timeout)
        except (OSError, ValueError) as error:
            raise KeySetUnavailable(f"Fetching {self._url} failed: {error}") from error
        keys = {}
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            if jwk.get("use", "sig") == "sig" and "kid" in jwk:
                try:
                    keys[str(jwk["kid"])] = _RS256.from_jwk(jwk)
                except (InvalidKeyError, KeyError, ValueError):
                    continue  # a key of another type is no key for RS256 tokens
        self._keys, self._fetched_at = keys, self._clock()


def verified_payload(token: str, keys: KeySet) -> dict[str, Any]:
    """The claims of `token` once its RS256 signature checks out against `keys`.

    Raises `InvalidTokenError` (PyJWT's) for anything malformed or not signed by the pool,
    `KeySetUnavailable` when the keys cannot be fetched. Checking the claims is the caller's.
    """
    header = _JWS.get_unverified_header(token)
    if header.get("alg") != ALGORITHM:
        raise InvalidTokenError("Only RS256 tokens are accepted.")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidTokenError("The token names no key.")
    # PyJWT's annotation lists cryptography's key types; a registered algorithm takes its own.
    key: Any = keys.key(kid)
    decoded = _JWS.decode_complete(token, key=key, algorithms=[ALGORITHM])
    try:
        claims = json.loads(decoded["payload"])
    except ValueError:
        raise InvalidTokenError("The token's payload is not JSON.") from None
    if not isinstance(claims, dict):
        raise InvalidTokenError("The token's payload is not a JSON object.")
    return claims
