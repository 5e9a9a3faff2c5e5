"""What each API function loads at cold start: never Pillow, and no S3 client until used.

(The sandbox's init measures themselves are tested in test_runtime.py.)"""

from __future__ import annotations

import pytest

from tests.probe import ROOT, fresh_process

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
    loaded = fresh_process(PROBE, str(ROOT / "functions" / function / "handler.py"))
    assert loaded == {"pil": False, "s3_clients": 0}
