"""What each API function loads at cold start: never Pillow, and no S3 client until used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from catalog.images import storage
print(json.dumps({"pil": any(m == "PIL" or m.startswith("PIL.") for m in sys.modules),
                  "s3_clients": storage._client.cache_info().currsize}))
"""


@pytest.mark.parametrize("function", ["products", "product_images", "meta", "categories"])
def test_api_functions_import_neither_pillow_nor_an_s3_client(function: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
    }
    handler = ROOT / "functions" / function / "handler.py"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(handler)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"pil": False, "s3_clients": 0}
