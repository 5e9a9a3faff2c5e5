"""What each API function loads at cold start: never Pillow, and no S3 client until used."""

from __future__ import annotations

import json

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


GC_PROBE = r"""
import gc, importlib.util, json, sys
collections = []
def seen(phase, info):  # from the first statement that runs catalog.core.coldstart
    if phase == "start" and "catalog.core.coldstart" in sys.modules:
        collections.append(info["generation"])
gc.callbacks.append(seen)
report = {}
for name, path in json.loads(sys.argv[1]).items():
    collections.clear()
    spec = importlib.util.spec_from_file_location(f"handler_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report[name] = {"collections": list(collections), "enabled": gc.isenabled(),
                    "frozen": gc.get_freeze_count()}
print(json.dumps(report))
"""


def test_functions_run_no_garbage_collection_during_init_and_freeze_what_it_built() -> None:
    """catalog.core.coldstart: the collector is paused from a handler's first statement to
    its last (api_handler() in an API function), then on again, with init's objects frozen."""
    from infra import topology

    handlers = {name: str(ROOT / fn.handler_file) for name, fn in topology.FUNCTIONS.items()}
    assert len(handlers) >= 13
    report = fresh_process(GC_PROBE, json.dumps(handlers))
    assert set(report) == set(handlers)
    for name, seen in report.items():
        assert seen["collections"] == [], f"{name}: collections during init"
        assert seen["enabled"], f"{name}: the collector is still off after init"
    # the first handler's init alone leaves tens of thousands of objects frozen
    assert min(seen["frozen"] for seen in report.values()) > 20_000


DEFER_PROBE = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from catalog.products.schemas import ProductPage, ProductQuery
after_init = {"ProductPage": ProductPage.__pydantic_complete__,
              "ProductQuery": ProductQuery.__pydantic_complete__}
ProductQuery.model_validate({})
print(json.dumps({"after_init": after_init, "used": ProductQuery.__pydantic_complete__}))
"""


def test_models_build_their_validators_on_first_use_not_at_init() -> None:
    """coldstart.begin(): pydantic's defer_build for every model defined during init."""
    seen = fresh_process(DEFER_PROBE, str(ROOT / "functions" / "products" / "handler.py"))
    assert seen == {"after_init": {"ProductPage": False, "ProductQuery": False}, "used": True}
