"""The catalog's shared package: business rules, persistence and cross-cutting pieces.

Shipped in the `core` Lambda layer; imported from source in development and tests.
Importing any of it first boots the function runtime (see catalog.runtime).
"""

from catalog.runtime import boot

boot()
