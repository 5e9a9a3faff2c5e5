"""A function's init (its cold start): the cyclic garbage collector waits until it is over.

Loading a function's modules allocates some 120,000 long-lived objects (classes, functions,
pydantic schemas, botocore's service model), none of them garbage. CPython's collector still
walks them: the products function's init ran one full collection, about 40 ms of a 0.7 s
cold start (make bench). So every handler module calls `begin()` before its imports, and
`end()` after its last statement (an API handler's last statement, `api_handler()`, calls
it): the collector is turned back on, and what init built is frozen (`gc.freeze`), so that
warm requests' collections no longer walk it either. Reference counting frees memory as
usual throughout.

Importing this module first also imports `catalog` before any Powertools module, which is
what makes Powertools load lazily (catalog.core.lean_powertools). And `begin()` makes
pydantic models defined during init build their validators on first use (`defer_build`).
"""

from __future__ import annotations

import gc


def begin() -> None:
    """Pause the cyclic garbage collector for the rest of the function's init, and have
    pydantic models build their validators on first use."""
    gc.disable()
    _defer_model_builds()


def _defer_model_builds() -> None:
    """Every pydantic model defined from now on (ours, and those Powertools creates for each
    route's parameters) builds its validator and serializer the first time it is used, not
    when its class is defined (pydantic's `defer_build`, set on `BaseModel`'s config, which
    every model's config starts from). A function then builds only what its requests use:
    the products function's cold start went from 0.499 to 0.457 s (make bench's harness,
    median of 10), its first request unchanged."""
    from pydantic import BaseModel, ConfigDict

    if not BaseModel.model_config.get("defer_build"):
        BaseModel.model_config = ConfigDict(**BaseModel.model_config, defer_build=True)


def end() -> None:
    """Init is over: freeze what it built and turn the collector back on."""
    gc.freeze()
    gc.enable()
