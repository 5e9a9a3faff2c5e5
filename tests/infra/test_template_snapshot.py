"""Each stage's template is its committed snapshot: the stack deploys nothing unreviewed.

The snapshots were taken from the stack before it was split into constructs; the split had
to reproduce them, logical ids included, so an existing deployment updates in place. After
a deliberate change, `make snapshots` rewrites them and the diff is the change's review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.infra import template_snapshot

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


@pytest.mark.parametrize("stage", template_snapshot.STAGES)
def test_the_template_is_its_snapshot(stage: str, synth_stage: Callable[[str], Any]) -> None:
    # Given the stage synthesized, and its snapshot
    synthesized = template_snapshot.normalize(synth_stage(stage).json)
    snapshot = template_snapshot.load(stage)
    # Then they hold the same resources, each with the same properties
    assert sorted(synthesized["Resources"]) == sorted(snapshot["Resources"])
    for logical_id, resource in snapshot["Resources"].items():
        assert synthesized["Resources"][logical_id] == resource, logical_id
    # And the same outputs, parameters, rules and everything else, so: the same template
    assert synthesized == snapshot, "run `make snapshots` after a deliberate change"
