"""The layer's pruning: what the build removes, and that tests refuse those modules too."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from infra import layer_pruning
from tests.probe import fresh_process

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import build_layers  # noqa: E402


@pytest.mark.parametrize("module", sorted(layer_pruning.PRUNED_MODULES))
def test_a_pruned_module_cannot_be_imported_here_either(module: str) -> None:
    with pytest.raises(ModuleNotFoundError, match="left out of the Lambda layer"):
        importlib.import_module(module)


def test_what_functions_need_still_imports() -> None:
    for module in ("aws_lambda_powertools.utilities.batch", "pydantic", "rsa", "jwt"):
        importlib.import_module(module)


def test_the_build_removes_pruned_packages_modules_and_files(tmp_path: Path) -> None:
    kept = [
        "aws_lambda_powertools/utilities/batch/__init__.py",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/html.py",
        "pydantic/main.py",
        "rsa/pkcs1.py",
        "wrapt/wrappers.py",
    ]
    gone = [
        "aws_lambda_powertools/utilities/kafka/__init__.py",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
        "pydantic/v1/main.py",
        "pyasn1/codec/der/decoder.py",
        "wrapt/_wrappers.cpython-312-aarch64-linux-gnu.so",
    ]
    for name in kept + gone:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x" * 10)
    assert build_layers.prune(tmp_path) == 10 * len(gone)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == sorted(kept)


XRAY_PROBE = r"""
import json
from infra import layer_pruning
layer_pruning.guard()  # as the layer: X-Ray's patches for absent libraries are left out
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import patch_all, patcher
import wrapt.__wrapt__
global_sdk_config.set_sdk_enabled(True)
patch_all()  # what Powertools' Tracer does in the cloud
print(json.dumps({"patched": sorted(patcher._PATCHED_MODULES),
                  "wrapt_c": wrapt.__wrapt__._using_c_extension}))
"""


def test_tracing_still_patches_aws_calls_without_the_pruned_modules() -> None:
    """Tracer patches every library X-Ray supports and skips those it cannot import; with
    the pruned patches and wrapt's C extension gone, it still wraps botocore (and pynamodb)
    with wrapt's pure-Python wrappers."""
    seen = fresh_process(XRAY_PROBE)
    assert {"botocore", "pynamodb"} <= set(seen["patched"])
    assert seen["wrapt_c"] is False


def test_the_built_layer_holds_no_pruned_module() -> None:
    """What `make build` made (make test builds first): no file of the layer is a module
    the guard refuses, so what tests refuse, Lambda cannot load either (and the reverse)."""
    site = ROOT / ".build" / "layers" / "core" / "python"
    assert site.is_dir(), "run `make build` first"
    shipped = []
    for path in site.rglob("*"):
        relative = path.relative_to(site)
        if path.suffix not in (".py", ".so") or "__pycache__" in relative.parts:
            continue
        module = ".".join(relative.with_name(path.name.split(".")[0]).parts)
        shipped.append(module.removesuffix(".__init__"))
    assert "wrapt.wrappers" in shipped  # the walk does see the layer's modules
    assert [m for m in shipped if layer_pruning.is_pruned(m)] == []
