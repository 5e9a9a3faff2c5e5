"""What the core layer leaves out of its third-party packages, and the guard that keeps local
runs honest about it.

Every byte of a layer is downloaded on a cold start, so `scripts/build_layers.py` drops the
parts of installed packages that no function can reach. The same list is enforced locally:
`guard()` (installed by the tests and by `make run`) makes importing a pruned module fail
the way it would in Lambda, so a function that starts to need one fails `make test`, not a
deployment.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

# Modules (with their submodules) no function imports, each with why.
PRUNED_MODULES: dict[str, str] = {
    "aws_lambda_powertools.utilities.auth_alpha": "experimental; we authorize in catalog.core",
    "aws_lambda_powertools.utilities.circuit_breaker": "no circuit breaker in use",
    "aws_lambda_powertools.utilities.data_masking": "no field encryption in use",
    "aws_lambda_powertools.utilities.feature_flags": "no feature flags in use",
    "aws_lambda_powertools.utilities.kafka": "no Kafka consumers",
    "aws_lambda_powertools.utilities.streaming": "no S3 streaming (images reads whole objects)",
    "aws_lambda_powertools.utilities.validation": "pydantic validates; no JSON Schema",
    "pydantic.v1": "the pydantic 1 compatibility copy; everything here is pydantic 2",
    "pyasn1": "rsa needs it only to read PEM/DER keys; keys come from the JWKS as numbers",
}
# Data files no function reads (paths inside the layer's python/ folder, as glob patterns).
PRUNED_FILES: dict[str, str] = {
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js": (
        "Swagger UI is served only by enable_swagger(); the API publishes /v1/openapi.json"
    ),
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.css": "as above",
}


def is_pruned(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in PRUNED_MODULES)


def module_folders() -> list[str]:
    """Each pruned module as a path inside the layer (a package folder or a module file)."""
    return [name.replace(".", "/") for name in PRUNED_MODULES]


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if is_pruned(fullname):
            raise ModuleNotFoundError(
                f"{fullname} is left out of the Lambda layer (infra/layer_pruning.py)",
                name=fullname,
            )


_installing = threading.Lock()


def guard() -> None:
    """Refuse pruned modules in this process, as Lambda would (idempotent, thread-safe)."""
    with _installing:
        if any(isinstance(finder, _Refuse) for finder in sys.meta_path):
            return
        # A copy: other threads (the local runner's functions) may be importing meanwhile.
        loaded = sorted(name for name in list(sys.modules) if is_pruned(name))
        if loaded:
            raise RuntimeError(f"Pruned modules were imported before the guard: {loaded}")
        sys.meta_path.insert(0, _Refuse())
