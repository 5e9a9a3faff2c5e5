"""Webhook address verdicts are identical on every supported Python: 3.11, 3.12 and 3.13.

`ipaddress`'s properties differ between those versions; catalog.webhooks.addresses must
not. Each interpreter runs the module by itself (`-I -S`: no site-packages, no
PYTHONPATH, so the module stays standard-library only) over the same addresses. A missing
interpreter fails the test: a verdict never checked on a runtime is not known to hold.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from catalog.webhooks.addresses import (
    IPV4_OTHER,
    IPV4_SPECIAL,
    IPV6_EMBEDDING,
    IPV6_OTHER,
    IPV6_SPECIAL,
    refusal,
)
from tests.unit.test_webhook_addresses import NON_PUBLIC_IPV4, PUBLIC_IPV4, carrying, samples

SUPPORTED = ("3.11", "3.12", "3.13")
MODULE = Path(__file__).resolve().parents[2] / "layers/core/catalog/webhooks/addresses.py"
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("addresses", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["addresses"] = module
spec.loader.exec_module(module)
verdicts = {address: module.refusal(address) for address in json.load(sys.stdin)}
print(json.dumps({"version": "%d.%d" % sys.version_info[:2], "verdicts": verdicts}))
"""


def interpreter(version: str) -> str:
    """The newest pyenv build of `version`, else a `python<version>` on PATH (no shims)."""
    root = Path(os.environ.get("PYENV_ROOT") or Path("~/.pyenv").expanduser())
    builds = sorted(
        (root / "versions").glob(f"{version}.*/bin/python"),
        key=lambda path: [int(part) for part in path.parts[-3].split(".")[:3] if part.isdigit()],
    )
    if builds:
        return str(builds[-1])
    on_path = [
        path
        for directory in os.environ.get("PATH", "").split(os.pathsep)
        if "shims" not in directory
        and (path := shutil.which(f"python{version}", path=directory)) is not None
    ]
    if on_path:
        return on_path[0]
    pytest.fail(
        f"no Python {version} interpreter: looked in {root}/versions/{version}.*/bin/python"
        f" and for python{version} on PATH. The address verdicts must be checked on every"
        f" supported version ({', '.join(SUPPORTED)}): install it (pyenv install {version})."
    )


def neighbours(prefix: str) -> list[str]:
    """The addresses just outside a range, where an off-by-one would show."""
    network = ipaddress.ip_network(prefix)
    top = 2**network.max_prefixlen - 1
    below, above = int(network[0]) - 1, int(network[-1]) + 1
    kind = type(network.network_address)
    return [str(kind(n)) for n in (below, above) if 0 <= n <= top]


def probes() -> list[str]:
    addresses: list[str] = []
    for row in IPV4_SPECIAL + IPV4_OTHER + IPV6_SPECIAL + IPV6_OTHER + IPV6_EMBEDDING:
        addresses += [*samples(row.prefix).values(), *neighbours(row.prefix)]
    for embedding in IPV6_EMBEDDING:
        for ipv4 in NON_PUBLIC_IPV4 + PUBLIC_IPV4:
            for position in ("first", "middle", "last"):
                addresses.append(carrying(embedding, (ipv4,) * len(embedding.carried), position))
    addresses += ["::ffff:169.254.169.254", "::FFFF:A9FE:A9FE", "fec0::1", "5f00::1", "3fff::1"]
    addresses += ["2001:4860:4860::8888", "4000::1", "fe80::1%eth0", "2130706433"]
    return sorted(set(addresses))


def test_every_supported_python_gives_the_same_verdicts() -> None:
    # Given one interpreter of each supported Python version, and addresses of every
    # range, just outside each, and IPv6 forms carrying public and non-public IPv4
    addresses = probes()
    expected = {address: refusal(address) for address in addresses}
    for version in SUPPORTED:
        python = interpreter(version)
        # When that interpreter judges them with the module alone
        done = subprocess.run(
            [python, "-I", "-S", "-c", PROBE, str(MODULE)],
            input=json.dumps(addresses),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{python}: {done.stderr[-2000:]}"
        found = json.loads(done.stdout)
        # Then it is that version, and every verdict (and its reason) is the one here
        assert found["version"] == version, python
        differing = {
            a: (found["verdicts"][a], v) for a, v in expected.items() if found["verdicts"][a] != v
        }
        assert not differing, f"{python} judges differently: {differing}"
