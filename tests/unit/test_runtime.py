"""catalog.runtime: Powertools packages loaded name by name, every function loading in a fresh
process where the layer's pruned modules cannot be imported, and a Lambda sandbox's init
running without garbage collection and with deferred pydantic builds (and no other process's)."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

from catalog import runtime
from infra import layer_pruning, topology
from tests.probe import ROOT, fresh_process

REAL_ALL = r"""
import importlib, json, sys
print(json.dumps({name: sorted(importlib.import_module(name).__all__) for name in sys.argv[1:]}))
"""


def test_the_lazy_packages_export_what_the_real_ones_do() -> None:
    # The real packages, imported in a process that never installs the lazy ones.
    real = fresh_process(REAL_ALL, *runtime.LAZY_PACKAGES)
    assert isinstance(real, dict)
    for package in runtime.LAZY_PACKAGES:
        module = importlib.import_module(package)  # the tests import catalog first: lazy
        assert "__getattr__" in vars(module)  # the real __init__s define none
        assert sorted(module.__all__) == real[package]
        sources = runtime.exports(package, str(module.__spec__.origin))
        for name in real[package]:
            if layer_pruning.is_pruned(sources[name][0]):  # left out of the layer
                with pytest.raises(ModuleNotFoundError, match="left out of the Lambda layer"):
                    getattr(module, name)
            else:
                assert getattr(module, name) is not None


def test_a_name_loads_only_its_own_submodule() -> None:
    probe = r"""
import json, sys
import catalog  # installs the lazy packages
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import SQSRecord
print(json.dumps(sorted(m for m in sys.modules if m.startswith("aws_lambda_powertools."))))
"""
    loaded = fresh_process(probe)
    assert isinstance(loaded, list)
    assert "aws_lambda_powertools.event_handler.api_gateway" in loaded
    assert "aws_lambda_powertools.utilities.data_classes.sqs_event" in loaded
    for other in ("event_handler.appsync", "event_handler.vpc_lattice", "data_classes.ses_event"):
        assert not any(m.endswith(other) for m in loaded), other


def test_an_unknown_name_is_an_attribute_error() -> None:
    import aws_lambda_powertools.event_handler as event_handler

    with pytest.raises(AttributeError, match="no attribute 'NoSuchResolver'"):
        _ = event_handler.NoSuchResolver


def test_exports_reads_relative_and_absolute_imports(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text(
        "from .a import A, B as C\n"
        "from pkg.sub.b import D\n"
        "from ..up import E\n"
        "import os\n"
        "__all__ = ['A', 'C', 'D', 'E']\n"
    )
    assert runtime.exports("pkg.sub", str(init)) == {
        "A": ("pkg.sub.a", "A"),
        "C": ("pkg.sub.a", "B"),
        "D": ("pkg.sub.b", "D"),
        "E": ("pkg.up", "E"),
    }


EVERY_HANDLER = r"""
import importlib.util, json, sys
from infra import layer_pruning
layer_pruning.guard()  # as the layer: pruned modules cannot be imported
for name, path in json.loads(sys.argv[1]).items():
    spec = importlib.util.spec_from_file_location(f"handler_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
ours = ("aws_lambda_powertools", "infra")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(ours))))
"""


def test_every_function_loads_in_a_fresh_process_without_the_pruned_modules() -> None:
    """Each handler imports `catalog.runtime` first, so the lazy packages are in place
    before anything asks for them; a handler that did not would import a pruned module here
    (and fail its init in Lambda)."""
    for name, function in topology.FUNCTIONS.items():
        path = ROOT / function.handler_file
        loaded = fresh_process(EVERY_HANDLER, json.dumps({name: str(path)}))
        assert isinstance(loaded, list)
        assert "aws_lambda_powertools.event_handler.appsync" not in loaded, name
        # No file of infra/ ships in the layer: no function may need one.
        needed = {m for m in loaded if m.startswith("infra")} - {"infra", "infra.layer_pruning"}
        assert needed == set(), name


# --- a Lambda sandbox's init ----------------------------------------------------------------

SANDBOX = {runtime.SANDBOX_VARIABLE: "127.0.0.1:9001"}  # what the Lambda runtime sets

GC_PROBE = r"""
import gc, importlib.util, json, sys
collections = []
def seen(phase, info):  # from the moment the function runtime has booted
    runtime = sys.modules.get("catalog.runtime")
    if phase == "start" and getattr(runtime, "_booted", False):
        collections.append(info["generation"])
gc.callbacks.append(seen)
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({"collections": collections, "enabled": gc.isenabled(),
                  "frozen": gc.get_freeze_count()}))
"""


@pytest.mark.parametrize("name", sorted(topology.FUNCTIONS))
def test_functions_run_no_garbage_collection_during_init_and_freeze_what_it_built(
    name: str,
) -> None:
    """In a sandbox the collector is paused from a handler's first import to its last
    statement (catalog.runtime.ready), then on again, with init's objects frozen."""
    # Given a fresh Lambda sandbox
    # When the function's handler module loads
    seen = fresh_process(GC_PROBE, str(ROOT / topology.FUNCTIONS[name].handler_file), env=SANDBOX)
    # Then no collection ran during its init, the collector is on again after it
    assert seen["collections"] == [], f"{name}: collections during init"
    assert seen["enabled"], f"{name}: the collector is still off after init"
    # And the init's tens of thousands of objects are frozen
    assert seen["frozen"] > 20_000


DEFER_PROBE = r"""
import gc, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from catalog.products.schemas import ProductPage, ProductQuery
from pydantic import BaseModel
after_init = {"ProductPage": ProductPage.__pydantic_complete__,
              "ProductQuery": ProductQuery.__pydantic_complete__}
ProductQuery.model_validate({})
class Later(BaseModel):
    x: int = 0
print(json.dumps({"after_init": after_init, "used": ProductQuery.__pydantic_complete__,
                  "defined_after_init": Later.__pydantic_complete__, "gc": gc.isenabled(),
                  "frozen": gc.get_freeze_count() > 0}))
"""
PRODUCTS_HANDLER = str(ROOT / "functions" / "products" / "handler.py")


def test_models_build_their_validators_on_first_use_not_at_init() -> None:
    """catalog.runtime: pydantic's defer_build for every model defined during init."""
    seen = fresh_process(DEFER_PROBE, PRODUCTS_HANDLER, env=SANDBOX)
    assert seen["after_init"] == {"ProductPage": False, "ProductQuery": False}
    assert seen["used"] is True
    # and once init is over, pydantic's own default is back
    assert seen["defined_after_init"] is True


def test_outside_a_sandbox_the_runtime_changes_neither_the_collector_nor_pydantic() -> None:
    # Given a process that is not a Lambda sandbox (a test, the local runner, a script)
    # When a function's handler loads in it
    seen = fresh_process(DEFER_PROBE, PRODUCTS_HANDLER, env={runtime.SANDBOX_VARIABLE: None})
    # Then its models are built as pydantic builds them, and the collector was never touched
    assert seen["after_init"] == {"ProductPage": True, "ProductQuery": True}
    assert seen["gc"] is True and seen["frozen"] is False


CLIENTS_PROBE = r"""
import importlib.util, json, sys
from catalog.core import aws, dynamo
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({"dynamodb": dynamo.connection.cache_info().currsize,
                  "others": sorted(aws._created_at_init)}))
"""


@pytest.mark.parametrize(
    ("function", "created"),
    [
        ("products", {"dynamodb": 1, "others": []}),
        ("auth", {"dynamodb": 0, "others": ["cognito-idp"]}),
        ("users", {"dynamodb": 0, "others": []}),
    ],
)
def test_a_sandbox_init_creates_the_clients_its_topology_names(
    function: str, created: dict[str, object]
) -> None:
    # Given the environment the topology gives the function, in a sandbox
    spec = topology.FUNCTIONS[function]
    env = {**SANDBOX, "CATALOG_INIT_CLIENTS": ",".join(spec.init_clients)}
    # When its handler loads
    seen = fresh_process(CLIENTS_PROBE, str(ROOT / spec.handler_file), env=env)
    # Then exactly those clients exist (a created Cognito client waits for its first user)
    assert seen == created


# --- the handler's two ends ---------------------------------------------------------------


# Parsed when the module is collected, before any test runs: in full runs CPython 3.11.7's
# ast.parse raised "SystemError: AST constructor recursion depth mismatch" here, late in a
# worker that had run Hypothesis (which moves the recursion limit); an interpreter bug, not
# the handlers'.
_PARSED = {
    name: ast.parse((ROOT / spec.handler_file).read_text()).body
    for name, spec in topology.FUNCTIONS.items()
}


def _statements(name: str) -> list[ast.stmt]:
    body = _PARSED[name]
    rest = body[1:] if isinstance(body[0], ast.Expr) else body  # the docstring
    return [s for s in rest if not (isinstance(s, ast.ImportFrom) and s.module == "__future__")]


@pytest.mark.parametrize("name", sorted(topology.FUNCTIONS))
def test_a_handler_boots_the_runtime_first_and_ends_its_init_last(name: str) -> None:
    # Given a function's handler module
    statements = _statements(name)
    source = (ROOT / topology.FUNCTIONS[name].handler_file).read_text()
    # Then its first statement is the plain import of the runtime
    first = statements[0]
    assert isinstance(first, ast.Import), name
    assert [alias.name for alias in first.names] == ["catalog.runtime"], name
    # And its last builds the entry point through catalog.runtime.ready
    last = statements[-1]
    assert isinstance(last, ast.Assign), name
    assert [t.id for t in last.targets if isinstance(t, ast.Name)] == ["lambda_handler"], name
    assert isinstance(last.value, ast.Call), name
    assert ast.unparse(last.value.func) == "catalog.runtime.ready", name
    # And nothing in it needs the order of its imports excused
    assert "E402" not in source, name
