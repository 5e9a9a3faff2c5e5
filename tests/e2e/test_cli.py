"""The `catalog` command line over the local system: signing in (tokens kept 0600, never
printed), reading products, an export and an import driven end to end, Ctrl-C included."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner, Result

from cli import app, jobs
from infra.local.demo_users import DEMO_USERS, demo_password
from tests.cli_output import without_metrics
from tests.factories import product_payload
from tests.users import demo_user, fresh_category


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A config directory of the test's own ($XDG_CONFIG_HOME)."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("CATALOG_POLL_S", "0.2")
    yield home


def catalog(local_system: Any, *args: str) -> Result:
    runner = CliRunner(env={"COLUMNS": "200"})
    return without_metrics(
        runner.invoke(app, [*args, "--api", local_system.url], catch_exceptions=False)
    )


def sign_in(local_system: Any, role: str = "admin") -> Result:
    return catalog(
        local_system, "login", "--email", DEMO_USERS[role], "--password", demo_password()
    )


def test_login_keeps_the_tokens_in_a_0600_file_and_never_prints_them(
    local_system: Any, config_home: Path
) -> None:
    # When the admin signs in, the password typed at the prompt
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(
        app,
        ["login", "--email", DEMO_USERS["admin"], "--api", local_system.url],
        input=demo_password() + "\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    # Then the tokens are in the user's config directory, readable by the user alone
    path = config_home / "catalog" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = path.read_text()
    entry = json.loads(stored)[local_system.url]
    # And neither the token nor the password was printed
    assert entry["access_token"] not in result.output
    assert entry["refresh_token"] not in result.output
    assert demo_password() not in result.output.replace("Password: ", "")
    # And the next command is signed in with them
    me = catalog(local_system, "exports", "list")
    assert me.exit_code == 0, me.output
    assert entry["access_token"] not in me.output


def test_a_credentials_file_others_may_read_is_refused(
    local_system: Any, config_home: Path
) -> None:
    assert sign_in(local_system).exit_code == 0
    path = config_home / "catalog" / "credentials.json"
    path.chmod(0o644)
    result = catalog(local_system, "exports", "list")
    assert result.exit_code == 1
    assert "may be read by others" in result.output


def test_a_wrong_password_is_one_line_and_stores_nothing(
    local_system: Any, config_home: Path
) -> None:
    result = catalog(
        local_system, "login", "--email", DEMO_USERS["admin"], "--password", "wrong-Passw0rd!"
    )
    assert result.exit_code == 1
    assert result.output.startswith("error:") and len(result.output.strip().splitlines()) == 1
    assert not (config_home / "catalog" / "credentials.json").exists()


def test_products_list_and_get(local_system: Any, config_home: Path) -> None:
    # Given a product
    editor = demo_user(local_system.url, "editor")
    created = requests.post(
        local_system.url + "/v1/products",
        json=product_payload(name="Cli lamp", category="kitchen"),
        headers=editor.headers,
        timeout=30,
    ).json()
    # When anyone lists the category's products and gets it by id
    listed = catalog(local_system, "products", "list", "--category", "kitchen", "--limit", "100")
    got = catalog(local_system, "products", "get", created["id"])
    # Then the table shows it and get prints its JSON
    assert listed.exit_code == 0, listed.output
    assert created["id"] in listed.output and created["sku"] in listed.output
    assert got.exit_code == 0, got.output
    assert json.loads(got.output)["sku"] == created["sku"]
    # And an unknown id is one line, status 1
    missing = catalog(local_system, "products", "get", "01JC0000000000000000000000")
    assert missing.exit_code == 1 and "[404]" in missing.output


def test_export_end_to_end_into_a_file(
    local_system: Any, config_home: Path, tmp_path: Path
) -> None:
    # Given products in a category of their own, and the admin signed in
    editor = demo_user(local_system.url, "editor")
    category = fresh_category(local_system.url, "cli")
    skus = []
    for n in range(3):
        body = product_payload(category=category, tags=[f"cli-{n}"], name=f"=cmd {n}")
        response = requests.post(
            local_system.url + "/v1/products", json=body, headers=editor.headers, timeout=30
        )
        assert response.status_code == 201, response.text
        skus.append(body["sku"])
    assert sign_in(local_system).exit_code == 0
    target = tmp_path / "garden.csv"
    # When the admin exports them with filters into a file
    result = catalog(
        local_system,
        "export",
        "--category",
        category,
        "--tag",
        "cli-0",
        "--tag",
        "cli-2",
        "-o",
        str(target),
    )
    # Then the command ends well and the file holds exactly the filtered products
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert sorted(r["sku"] for r in rows) == sorted([skus[0], skus[2]])
    assert all(r["name"].startswith("'=cmd") for r in rows)  # neutralized for spreadsheets
    assert "2 products" in result.output
    # And the job is among the caller's exports
    listed = catalog(local_system, "exports", "list")
    job_id = re.search(r"export (\w{26}) started", result.output)
    assert job_id is not None, result.output
    assert listed.exit_code == 0 and job_id[1] in listed.output


def test_ctrl_c_leaves_the_export_running_and_says_how_to_look_at_it(
    local_system: Any, config_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a product in a category of its own (the suite seeds no products: an export of a
    # shared category would be empty when this test runs first), the admin signed in, and a
    # Ctrl-C at the first wait for the job
    editor = demo_user(local_system.url, "editor")
    category = fresh_category(local_system.url, "cli")
    body = product_payload(category=category)
    response = requests.post(
        local_system.url + "/v1/products", json=body, headers=editor.headers, timeout=30
    )
    assert response.status_code == 201, response.text
    assert sign_in(local_system).exit_code == 0

    def interrupted() -> float:
        raise KeyboardInterrupt  # as Ctrl-C does, at the wait between two polls

    # (not time.sleep itself: the local system's threads in this process sleep too)
    target = tmp_path / "all.jsonl"
    # When the export is started and interrupted
    with monkeypatch.context() as patched:
        patched.setattr(jobs, "poll_interval", interrupted)
        result = catalog(local_system, "export", "--category", category, "-o", str(target))
    # Then the command stops with status 130, saying how to follow the job
    assert result.exit_code == 130, result.output
    started = re.search(r"export (\w{26}) started", result.output)
    assert started is not None, result.output
    job_id = started[1]
    assert f"catalog exports show {job_id}" in result.output
    assert f"GET /v1/exports/{job_id}" in result.output
    assert not target.exists()
    # And the job goes on on the server: it ends done, and `exports show -o` fetches it
    admin = demo_user(local_system.url, "admin")
    deadline = time.monotonic() + 120
    status = "pending"
    while status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        status = requests.get(
            f"{local_system.url}/v1/exports/{job_id}", headers=admin.headers, timeout=30
        ).json()["status"]
    assert status == "done"
    shown = catalog(local_system, "exports", "show", job_id, "-o", str(target))
    assert shown.exit_code == 0, shown.output
    lines = target.read_text().splitlines()
    assert [json.loads(line)["sku"] for line in lines] == [body["sku"]]


def test_commands_need_a_sign_in(local_system: Any, config_home: Path) -> None:
    result = catalog(local_system, "exports", "list")
    assert result.exit_code == 1
    assert "catalog login" in result.output


def test_import_end_to_end_with_its_report(
    local_system: Any, config_home: Path, tmp_path: Path
) -> None:
    # Given a CSV of two good rows and one naming a category that does not exist
    admin = demo_user(local_system.url, "admin")
    category = fresh_category(local_system.url, "cli-imp")
    prefix = f"CLI-{uuid.uuid4().hex[:8]}"
    source = tmp_path / "products.csv"
    source.write_text(
        "sku;name;price;currency;category;tags;stock;status\n"
        f"{prefix}-1;Enamel mug;12.50;EUR;{category};enamel|blue;4;active\n"
        f'{prefix}-2;"Mug; large";14.90;EUR;{category};;2;active\n'
        f"{prefix}-3;Desk lamp;39.00;EUR;no-such-{category};;1;draft\n"
    )
    assert sign_in(local_system, "editor").exit_code == 0
    # When the editor imports it and waits for the end
    result = catalog(local_system, "import", str(source), "--wait")
    # Then the command says what was written and what was refused
    assert result.exit_code == 0, result.output
    job_id = re.search(r"import (\w{26}) started", result.output)
    assert job_id is not None, result.output
    assert f"import {job_id[1]} done" in result.output
    assert "created 2" in result.output and "failed 1" in result.output
    # And the report it fetches names the refused row, its field and problem type
    report = tmp_path / "report.csv"
    shown = catalog(local_system, "imports", "show", job_id[1], "--report", str(report))
    assert shown.exit_code == 0, shown.output
    (refused,) = list(csv.DictReader(io.StringIO(report.read_text())))
    assert (refused["row"], refused["sku"], refused["field"]) == ("4", f"{prefix}-3", "category")
    # And the two products are in the catalog, as the rows said
    listed = requests.get(
        local_system.url + "/v1/products",
        params={"category": category},
        headers=admin.headers,
        timeout=30,
    ).json()["items"]
    assert sorted((p["sku"], p["price"]) for p in listed) == [
        (f"{prefix}-1", "12.50"),
        (f"{prefix}-2", "14.90"),
    ]
