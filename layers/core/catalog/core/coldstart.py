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
what makes Powertools load lazily (catalog.core.lean_powertools).
"""

from __future__ import annotations

import gc


def begin() -> None:
    """Pause the cyclic garbage collector for the rest of the function's init."""
    gc.disable()


def end() -> None:
    """Init is over: freeze what it built and turn the collector back on."""
    gc.freeze()
    gc.enable()
