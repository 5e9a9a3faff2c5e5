"""`make run`'s readiness: health answers 503 until the demo users and data are in place,
and a client that writes demo data first never makes the seed fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.demo_users import DEMO_USERS, demo_password, login
from infra.local.seed import DEMO_CATEGORIES, DEMO_PRODUCTS
from tests.conftest import product_payload

ROOT = Path(__file__).resolve().parents[2]


class Runner:
    """The start-up of `make run` in a child process, one step per line we send it."""

    def __init__(self) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        }
        env.pop("AWS_ENDPOINT_URL", None)
        for name in [name for name in env if name.startswith("POWERTOOLS_")]:
            env.pop(name)  # as in a developer's shell (the tests' conftest sets them)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.seed_race_driver"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self._expect("started")

    def _expect(self, word: str) -> str:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(word + " "):
                return line[len(word) + 1 :].strip()
        raise AssertionError(f"the runner ended before printing {word!r}")

    def create_demo_users(self) -> None:
        self._send()
        self._expect("users")

    def _send(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def seed(self) -> dict[str, Any]:
        self._send()
        report: dict[str, Any] = json.loads(self._expect("seeded"))
        return report

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def runner() -> Iterator[Runner]:
    started = Runner()
    yield started
    started.stop()


def test_health_waits_for_the_seed_which_keeps_what_a_client_wrote_first(runner: Runner) -> None:
    # Given `make run` started, and a client that registered a demo email first, with a
    # password of its own
    url = runner.url
    assert requests.get(f"{url}/v1/health", timeout=10).status_code == 503
    taken = {"email": DEMO_USERS["viewer"], "password": "Client-Chose-This-1!", "name": "Early"}
    registered = requests.post(f"{url}/v1/auth/register", json=taken, timeout=10)
    assert registered.status_code == 201, registered.text
    # When the demo users are created, then that account signs in with the demo password
    runner.create_demo_users()
    assert login(url, DEMO_USERS["viewer"], demo_password())
    # Given the demo users in place but nothing seeded yet
    admin = {"Authorization": f"Bearer {login(url, DEMO_USERS['admin'], demo_password())}"}
    editor = {"Authorization": f"Bearer {login(url, DEMO_USERS['editor'], demo_password())}"}
    # Then health answers 503 problem+json, saying when to retry
    starting = requests.get(f"{url}/v1/health", timeout=10)
    assert starting.status_code == 503, starting.text
    assert starting.headers["Content-Type"] == "application/problem+json"
    assert starting.json()["type"] == "urn:catalog:problem:not-ready"
    assert starting.headers["Retry-After"] == "1"
    # When a client, not waiting for health, creates a demo category and a demo SKU first
    lighting = {"slug": "lighting", "name": "Lamps and lights"}  # no parent, another name
    assert (
        requests.post(f"{url}/v1/categories", json=lighting, headers=admin, timeout=10).status_code
        == 201
    )
    lamp = product_payload(sku="LAMP-042", name="A client's lamp", category="lighting")
    created = requests.post(f"{url}/v1/products", json=lamp, headers=editor, timeout=10)
    assert created.status_code == 201, created.text
    # And the seed runs
    report = runner.seed()
    # Then it kept both, created the rest, and health answers 200
    assert sorted(report["kept"]) == ["category lighting", "product LAMP-042"]
    assert report["left_out"] == []
    assert sorted(p["sku"] for p in report["products"]) == ["MUG-001", "TEE-ORG-M"]
    health = requests.get(f"{url}/v1/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    # And a client that waited for it may act as its role at once (here: an editor's create)
    fresh_editor = {"Authorization": f"Bearer {login(url, DEMO_USERS['editor'], demo_password())}"}
    response = requests.post(
        f"{url}/v1/products", json=product_payload(), headers=fresh_editor, timeout=10
    )
    assert response.status_code == 201, response.text
    # And the client's category and product are as the client wrote them
    category = requests.get(f"{url}/v1/categories/lighting", timeout=10).json()
    assert category["name"] == "Lamps and lights" and category.get("parent") is None
    product = requests.get(f"{url}/v1/products/{created.json()['id']}", timeout=10).json()
    assert product["name"] == "A client's lamp"
    # When the seed runs again
    again = runner.seed()
    # Then it writes nothing and keeps everything
    assert again["products"] == [] and again["left_out"] == []
    expected = [f"category {c['slug']}" for c in DEMO_CATEGORIES]
    expected += [f"product {p['sku']}" for p in DEMO_PRODUCTS]
    assert sorted(again["kept"]) == sorted(expected)
