"""The catalog's HTTP API as the CLI calls it: which API (the local stack of `make run` by
default, or `--api URL`), the signed-in user's tokens, and problem+json answers turned
into one-line refusals.

Tokens live in the user's config directory (`$XDG_CONFIG_HOME/catalog/credentials.json`
on Linux, through click's `get_app_dir`), one entry per API, in a file only its owner may
read or write (mode 0600, set when it is created and checked when it is read). No command
prints a token.
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import requests
import typer

from cli.errors import Refused

TIMEOUT_S = 30
EXPIRY_MARGIN_S = 60  # refresh an access token this long before it expires
Api = Annotated[
    str | None,
    typer.Option(
        "--api",
        envvar="CATALOG_API",
        help="The API's base URL; default the local stack of `make run` "
        "(http://127.0.0.1:$PORT, 3000).",
        show_default=False,
    ),
]


def api_url(api: str | None) -> str:
    url = api or f"http://127.0.0.1:{os.environ.get('PORT', '3000')}"
    return url.rstrip("/")


def credentials_path() -> Path:
    return Path(typer.get_app_dir("catalog")) / "credentials.json"


def _read_all() -> dict[str, Any]:
    path = credentials_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise Refused(
            f"{path} may be read by others (mode {stat.S_IMODE(mode):o}): "
            "delete it and run `catalog login` again"
        )
    try:
        data = json.loads(path.read_text())
    except ValueError:
        raise Refused(f"{path} is not readable JSON: delete it and run `catalog login`") from None
    return data if isinstance(data, dict) else {}


def _write_all(data: dict[str, Any]) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    # Created 0600 (never readable by others, not even for a moment), then moved in place.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            json.dump(data, file, indent=2)
        temporary.chmod(0o600)  # whatever the umask did
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def store_tokens(api: str, tokens: dict[str, Any], email: str) -> None:
    data = _read_all()
    data[api] = {
        "email": email,
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token"),
        "expires_at": int(time.time()) + int(tokens["expires_in"]),
    }
    _write_all(data)


def forget_tokens(api: str) -> bool:
    data = _read_all()
    if data.pop(api, None) is None:
        return False
    _write_all(data)
    return True


def problem_line(response: requests.Response) -> str:
    """What the API said, in one line: a problem's detail (and the fields it names)."""
    try:
        problem = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(problem, dict):
        return f"HTTP {response.status_code}"
    line = str(problem.get("detail") or problem.get("title") or f"HTTP {response.status_code}")
    errors = problem.get("errors")
    if isinstance(errors, list) and errors:
        where = [
            f"{e.get('parameter') or e.get('field') or e.get('loc') or '?'}: {e.get('detail')}"
            for e in errors
            if isinstance(e, dict)
        ]
        line += " (" + "; ".join(where) + ")"
    return f"{line} [{response.status_code}]"


@dataclass
class Client:
    """Requests to one API, as its signed-in user (when there is one)."""

    base: str
    session: requests.Session

    @classmethod
    def of(cls, api: str | None) -> Client:
        return cls(api_url(api), requests.Session())

    def _token(self, required: bool) -> str | None:
        entry = _read_all().get(self.base)
        if entry is None:
            if required:
                raise Refused(f"not signed in to {self.base}: run `catalog login`")
            return None
        if int(entry.get("expires_at", 0)) - EXPIRY_MARGIN_S > time.time():
            return str(entry["access_token"])
        if not entry.get("refresh_token"):
            raise Refused(f"your session at {self.base} has expired: run `catalog login`")
        answer = self._send(
            "POST", "/v1/auth/refresh", json={"refresh_token": entry["refresh_token"]}
        )
        if answer.status_code != 200:
            raise Refused(f"your session at {self.base} has ended: run `catalog login`")
        tokens = answer.json()
        tokens.setdefault("refresh_token", entry["refresh_token"])
        store_tokens(self.base, tokens, entry.get("email", ""))
        return str(tokens["access_token"])

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        try:
            return self.session.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except requests.ConnectionError:
            raise Refused(
                f"cannot reach the API at {self.base}: start the local stack (make run), "
                "or pass --api URL"
            ) from None

    def call(
        self,
        method: str,
        path: str,
        *,
        signed_in: bool = True,
        ok: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> Any:
        """The JSON answer of a request, or a refusal saying what the API said."""
        token = self._token(required=signed_in)
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self._send(method, path, headers=headers, **kwargs)
        if response.status_code not in ok:
            raise Refused(problem_line(response))
        return response.json() if response.content else None

    def login(self, email: str, password: str) -> None:
        response = self._send("POST", "/v1/auth/login", json={"email": email, "password": password})
        if response.status_code != 200:
            raise Refused(problem_line(response))
        store_tokens(self.base, response.json(), email)

    def download(self, url: str, target: Path) -> int:
        """Stream the file at a presigned `url` into `target` (written whole or not at
        all); its size."""
        partial = target.with_name(f".{target.name}.part")
        try:
            with self.session.get(url, stream=True, timeout=TIMEOUT_S) as response:
                if response.status_code != 200:
                    raise Refused(f"the file could not be fetched (HTTP {response.status_code})")
                size = 0
                with partial.open("wb") as file:
                    for chunk in response.iter_content(1024 * 1024):
                        file.write(chunk)
                        size += len(chunk)
            partial.replace(target)
        except requests.ConnectionError:
            raise Refused("the file's link could not be reached") from None
        finally:
            partial.unlink(missing_ok=True)
        return size
