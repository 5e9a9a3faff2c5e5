"""catalog.core.lean_powertools: Powertools packages loaded name by name, and every function
still loading in a fresh process where the layer's pruned modules cannot be imported."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from catalog.core import lean_powertools
from infra import layer_pruning, topology
from tests.probe import ROOT, fresh_process

REAL_ALL = r"""
import importlib, json, sys
print(json.dumps({name: sorted(importlib.import_module(name).__all__) for name in sys.argv[1:]}))
"""


def test_the_lazy_packages_export_what_the_real_ones_do() -> None:
    # The real packages, imported in a process that never installs the lazy ones.
    real = fresh_process(REAL_ALL, *lean_powertools.LAZY_PACKAGES)
    assert isinstance(real, dict)
    for package in lean_powertools.LAZY_PACKAGES:
        module = importlib.import_module(package)  # the tests import catalog first: lazy
        assert "__getattr__" in vars(module)  # the real __init__s define none
        assert sorted(module.__all__) == real[package]
        sources = lean_powertools.exports(package, str(module.__spec__.origin))
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
    assert lean_powertools.exports("pkg.sub", str(init)) == {
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
    """Each handler imports `catalog` before Powertools, so the lazy packages are in place
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
