"""The catalog's shared package: business rules, persistence and cross-cutting pieces.

Shipped in the `core` Lambda layer; imported from source in development and tests.
Importing it first makes two Powertools packages load lazily (catalog.core.lean_powertools).
"""

from catalog.core import lean_powertools

lean_powertools.install()
