"""A function's init (its cold start): the cyclic garbage collector waits until it is over.

Loading a function's modules allocates some 120,000 long-lived objects (classes, functions,
pydantic schemas, botocore's service model), none of them garbage. CPython's collector still
walks them: the products function's init ran one full collection, about 40 ms of a 0.7 s
cold start (make bench). So an API handler module calls `begin()` before its imports, and
`api_handler()`, the last statement of every one, calls `end()`: the collector is turned
back on, and what init built is frozen (`gc.freeze`), so that warm requests' collections
no longer walk it either. Reference counting frees memory as usual throughout.
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
