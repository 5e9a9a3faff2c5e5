"""The local runner: moto server as AWS, provisioned from the topology, and a local gateway."""

import os

from infra.topology import METRICS_NAMESPACE

# Every function runs in this one process, and the runner itself imports parts of
# `catalog` (the gateway renders problems through the pipeline's module) before it applies
# the functions' environment: catalog.core.observability's Metrics, made at that first
# import, would have no namespace, and the first metric a function flushed would fail its
# request (`make run`'s seeding died on its first product). The namespace is the one the
# topology gives every function.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)
