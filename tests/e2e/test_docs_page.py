"""The docs page: Swagger UI served by the API itself (no CDN), cacheable, under a strict
content security policy, and usable in a real browser: it lists the operations, and "Try
it out" calls the local API, with a token from the login route once authorized."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from infra.local.demo_users import DEMO_USERS, demo_password, login

WAIT_S = 15


def test_the_page_and_its_assets_come_from_the_api_cacheable_under_a_strict_policy(
    local_system: Any,
) -> None:
    # Given the local API
    url = local_system.url
    # When the docs page is fetched
    page = requests.get(f"{url}/v1/docs", timeout=10)
    # Then it is HTML naming only same-origin assets, each URL carrying its content's hash
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(a.split("?")[0] for a in assets) == sorted(
        ["docs/swagger-ui.css", "docs/swagger-ui-bundle.js", "docs/docs.js"]
    )
    assert "<script>" not in page.text and "http" not in page.text.split("<body>")[1]
    # And its policy allows scripts, styles and requests from the API's origin alone
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy
    # And the page is revalidated with its ETag: 304 while unchanged
    assert page.headers["Cache-Control"] == "no-cache"
    again = requests.get(
        f"{url}/v1/docs", headers={"If-None-Match": page.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304 and again.content == b""
    for asset in assets:
        # And each asset, under the URL the page names, is cacheable for good
        response = requests.get(f"{url}/v1/{asset}", timeout=10)
        assert response.status_code == 200, asset
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Type"].startswith(("text/javascript", "text/css"))
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        version = asset.split("?v=")[1]
        assert response.headers["ETag"] == f'"{version}"'
        cached = requests.get(
            f"{url}/v1/{asset}", headers={"If-None-Match": response.headers["ETag"]}, timeout=10
        )
        assert cached.status_code == 304
    # And under another URL (no or an old hash) it must be revalidated
    stale = requests.get(f"{url}/v1/docs/docs.js?v=old", timeout=10)
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"
    # And a file the page does not have is a 404 problem
    missing = requests.get(f"{url}/v1/docs/secrets.txt", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:catalog:problem:not-found"


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail(
            "the docs page's browser test needs Chromium and its driver from the system "
            "packages: `make test` installs them (apt-get install chromium chromium-driver)"
        )
    return browser, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    binary, driver_path = _chromium()
    options = Options()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _operation(browser: WebDriver, method: str, path: str) -> WebElement:
    xpath = (
        f"//div[contains(@class, 'opblock-{method}')]"
        f"[.//*[contains(@class, 'opblock-summary-path') and @data-path='{path}']]"
    )
    return browser.find_element(By.XPATH, xpath)


def _try_it_out(browser: WebDriver, method: str, path: str) -> tuple[str, str, str]:
    """Expand an operation, run it with "Try it out", and read status, body and curl line."""
    operation = _operation(browser, method, path)
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait = WebDriverWait(browser, WAIT_S)
    wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))
    operation.find_element(By.CSS_SELECTOR, "button.try-out__btn").click()
    wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, "button.execute"))
    operation.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = ".live-responses-table .response .response-col_status"
    wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, status))
    code = operation.find_element(By.CSS_SELECTOR, status).text.strip().split()[0]
    body = operation.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    curl = operation.find_element(By.CSS_SELECTOR, ".curl-command").text
    return code, body, curl


def test_swagger_ui_lists_the_operations_and_tries_them_out_once_authorized(
    local_system: Any, browser: WebDriver
) -> None:
    # Given the docs page of the local API open in headless Chromium
    url = local_system.url
    document = requests.get(f"{url}/v1/openapi.json", timeout=10).json()
    operations = {(m, p) for p, item in document["paths"].items() for m in item}
    browser.get(f"{url}/v1/docs")
    wait = WebDriverWait(browser, WAIT_S)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock"))
    # Then it shows every operation of the document
    shown = {
        (
            element.get_attribute("class").split("opblock-")[1].split()[0],  # type: ignore[union-attr]
            element.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute(
                "data-path"
            ),
        )
        for element in browser.find_elements(By.CSS_SELECTOR, ".opblock")
    }
    assert shown == operations
    # When a public operation is tried out
    code, body, _ = _try_it_out(browser, "get", "/v1/health")
    # Then the call reached the local API
    assert code == "200" and '"status": "ok"' in body
    # When the editor's access token from POST /v1/auth/login is entered in "Authorize"
    token = login(url, DEMO_USERS["editor"], demo_password())
    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper button.authorize").click()
    wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux input")))
    browser.find_element(By.CSS_SELECTOR, ".modal-ux input").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, ".modal-ux button.modal-btn.authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".modal-ux button.btn-done").click()
    # And an operation that needs a token is tried out
    code, body, curl = _try_it_out(browser, "get", "/v1/users/me")
    # Then it is called with the token, as the editor
    assert code == "200", body
    assert DEMO_USERS["editor"] in body and '"role": "editor"' in body
    assert f"Authorization: Bearer {token}" in curl
    # And the page broke none of its content security policy, and loaded nothing elsewhere
    messages = [entry["message"] for entry in browser.get_log("browser")]  # type: ignore[no-untyped-call]
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages


def test_chromium_is_the_systems() -> None:
    # The browser test runs the Debian package, and its driver is the same version.
    binary, driver = _chromium()
    browser_version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    driver_version = subprocess.run([driver, "--version"], capture_output=True, text=True).stdout
    assert browser_version.split()[1].split(".")[0] == driver_version.split()[1].split(".")[0]
