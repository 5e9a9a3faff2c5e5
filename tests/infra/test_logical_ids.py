"""Concern constructs take no part in logical ids, and the ids follow CDK's own algorithm."""

from __future__ import annotations

from typing import Any

import pytest

from infra.stages import stage as stage_config

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# Path shapes CDK's makeUniqueId treats specially: hidden `Default`, `Resource` left out of
# the human part, a component repeating its parent's end, characters dropped, long ids.
PATHS = [
    ["Thing"],
    ["Thing", "Resource"],
    ["Api", "Api", "Default", "v1", "GET"],
    ["Fn", "SqsEventSource:CatalogdevQueueA1B2C3D4"],
    ["Table-products.v2", "Resource"],
    ["X" * 300],
    ["Long" * 40, "Longer" * 30, "Resource"],
]


def plain_and_concern_free_stacks() -> tuple[Any, Any]:
    """A plain Stack and a ConcernFreeStack of the same name, in apps of their own."""
    from aws_cdk import App, Stack

    from infra.stack.logical_ids import ConcernFreeStack

    return Stack(App(), "Catalog-test"), ConcernFreeStack(App(), "Catalog-test")


def concern(scope: Any, construct_id: str) -> Any:
    from infra.stack.base import Concern

    return Concern(scope, construct_id, stage=stage_config("dev"))


def resource(scope: Any, path: list[str]) -> Any:
    """A CloudFormation resource at `path` below `scope` (plain constructs in between)."""
    from aws_cdk import CfnResource
    from constructs import Construct

    for construct_id in path[:-1]:
        scope = scope.node.try_find_child(construct_id) or Construct(scope, construct_id)
    return CfnResource(scope, path[-1], type="AWS::SNS::Topic")


def logical_id(element: Any) -> str:
    from aws_cdk import Stack

    return str(Stack.of(element).resolve(element.logical_id))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: "/".join(p)[:40])
def test_make_unique_id_is_cdks(path: list[str]) -> None:
    from aws_cdk import Names

    from infra.stack.logical_ids import make_unique_id

    # Given a construct at `path` in a plain stack
    plain, _ = plain_and_concern_free_stacks()
    element = resource(plain, path)
    # Then its logical id, and its Names.uniqueId, are what make_unique_id computes
    assert logical_id(element) == make_unique_id(path)
    assert Names.unique_id(element) == make_unique_id(["Catalog-test", *path])


@pytest.mark.parametrize("path", PATHS, ids=lambda p: "/".join(p)[:40])
def test_a_resource_in_a_concern_keeps_its_logical_id(path: list[str]) -> None:
    # Given the same resource directly in a plain stack, and inside a concern
    plain, free = plain_and_concern_free_stacks()
    direct = resource(plain, path)
    nested = resource(concern(free, "Data"), path)
    # Then both get the same logical id
    assert logical_id(nested) == logical_id(direct)


def test_nested_concerns_are_left_out_too() -> None:
    plain, free = plain_and_concern_free_stacks()
    direct = resource(plain, ["Queue", "Resource"])
    nested = resource(concern(concern(free, "Events"), "Queues"), ["Queue", "Resource"])
    assert logical_id(nested) == logical_id(direct)


def test_an_id_embedding_a_concern_constructs_unique_id_is_taken_back() -> None:
    # Given a construct named after another's Names.uniqueId (as CDK names a Lambda
    # permission after its API), once with both in the stack, once each in a concern
    from aws_cdk import Names

    plain, free = plain_and_concern_free_stacks()
    direct_target = resource(plain, ["Api", "Resource"])
    direct = resource(plain, ["Fn", f"Permission.{Names.unique_id(direct_target.node.scope)}"])
    nested_target = resource(concern(free, "Web"), ["Api", "Resource"])
    nested = resource(
        concern(free, "Compute"), ["Fn", f"Permission.{Names.unique_id(nested_target.node.scope)}"]
    )
    # Then the embedded id is the one it would be without concerns
    assert logical_id(nested) == logical_id(direct)


def test_the_same_id_in_two_concerns_is_refused() -> None:
    # Given two concerns with a child of the same id: without concerns, one logical id
    _, free = plain_and_concern_free_stacks()
    first = resource(concern(free, "Data"), ["Thing"])
    second = resource(concern(free, "Events"), ["Thing"])
    logical_id(first)
    # Then the second is refused, naming both paths
    with pytest.raises(Exception, match=r"Events/Thing and Catalog-test/Data/Thing"):
        logical_id(second)


def test_unique_resource_name_is_cdks_without_the_concerns() -> None:
    from aws_cdk import Names

    from infra.stack.logical_ids import unique_resource_name

    # Given a long path, directly in a plain stack and inside a concern
    path = ["ImagesCdn", "Origin1", "S3OriginAccessControl" * 3]
    plain, free = plain_and_concern_free_stacks()
    direct = resource(plain, path)
    nested = resource(concern(free, "Media"), path)
    # Then the concern-free name is the plain stack's, for short and truncated lengths
    for max_length in (64, 256):
        expected = Names.unique_resource_name(direct, max_length=max_length)
        assert unique_resource_name(nested, max_length=max_length) == expected
