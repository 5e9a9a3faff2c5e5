"""Logical ids, and the names CDK derives from construct paths, as if concerns were not there.

Why: CDK derives a resource's logical id from its construct path, and CloudFormation
replaces a resource whose logical id changes. Nesting the stack's resources under concern
constructs (`Data/TableProducts` instead of `TableProducts`) would therefore replace every
table of an existing deployment with a new, empty one (the old one deleted, or retained
and orphaned), and so for the user pool, queues and buckets. `ConcernFreeStack` allocates
logical ids from the path without its concern constructs, so a deployment made before the
split (or before a resource moves between concerns) updates in place;
`tests/infra/test_template_snapshot.py` proves the template is the same.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import CfnElement, Stack
from constructs import IConstruct

from infra.stack.base import Concern

# As in aws-cdk-lib core/lib/private/uniqueid.js (makeUniqueId): these ids are reimplemented
# here, so they must follow CDK's algorithm exactly; the snapshot test is its check.
HIDDEN_ID = "Default"
HIDDEN_FROM_HUMAN_ID = "Resource"
HASH_LEN = 8
MAX_HUMAN_LEN = 240
MAX_ID_LEN = 255
_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


def _path_hash(components: Sequence[str]) -> str:
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    return digest[:HASH_LEN].upper()


def _remove_dupes(components: Sequence[str]) -> list[str]:
    kept: list[str] = []
    for component in components:
        if not kept or not kept[-1].endswith(component):
            kept.append(component)
    return kept


def _human_part(components: Sequence[str]) -> str:
    kept = _remove_dupes(components)
    return "".join(_NOT_ALPHANUMERIC.sub("", c) for c in kept if c != HIDDEN_FROM_HUMAN_ID)


def make_unique_id(components: Sequence[str]) -> str:
    """CDK's makeUniqueId: the logical id (or `Names.uniqueId`) of a path's components."""
    components = [c for c in components if c != HIDDEN_ID]
    if not components:
        raise ValueError("unable to calculate a unique id for an empty set of components")
    if len(components) == 1:
        candidate = _NOT_ALPHANUMERIC.sub("", components[0])
        if len(candidate) <= MAX_ID_LEN:
            return candidate
    human = _human_part(components)
    return human[:MAX_HUMAN_LEN] + _path_hash(components)


def make_unique_resource_name(components: Sequence[str], *, max_length: int) -> str:
    """CDK's makeUniqueResourceName (no separator, no prefix): `Names.uniqueResourceName`."""
    components = [c for c in components if c != HIDDEN_ID]
    if len(components) == 1:
        candidate = _NOT_ALPHANUMERIC.sub("", components[0])
        if len(candidate) <= max_length:
            return candidate
    human = _human_part(components)
    room = max_length - HASH_LEN
    if len(human) > room:
        human = human[: room // 2] + human[len(human) - room // 2 :]
    return human + _path_hash(components)


def concern_free_ids(construct: IConstruct) -> list[str]:
    """The ids of `construct`'s path below the app (itself included), concerns left out."""
    return [s.node.id for s in construct.node.scopes[1:] if not isinstance(s, Concern)]


def unique_id(scope: IConstruct, *children: str) -> str:
    """`Names.uniqueId` of `scope` (or of the child path below it), as before the concerns.

    For what CDK names after a construct's path inside a property (CloudFront origin ids):
    `_allocate_logical_id` cannot reach those, so the construct passes this value itself.
    """
    return make_unique_id([*concern_free_ids(scope), *children])


def unique_resource_name(construct: IConstruct, *, max_length: int) -> str:
    """`Names.uniqueResourceName` of `construct`, as before the concerns (stack name first)."""
    stack = Stack.of(construct)
    below = concern_free_ids(construct)[len(concern_free_ids(stack)) :]
    return make_unique_resource_name([stack.stack_name, *below], max_length=max_length)


@dataclass
class _Memo:
    stack_name: str  # as it starts the unique ids CDK makes (alphanumerics only)
    # `Names.uniqueId` of each construct below a concern -> that id without the concerns.
    unique_ids: dict[str, str] = field(default_factory=dict)
    components: dict[str, str] = field(default_factory=dict)  # construct id -> without
    paths: dict[str, str] = field(default_factory=dict)  # logical id -> construct path


class ConcernFreeStack(Stack):
    """A stack whose logical ids leave its concern constructs out of the path."""

    # Made on first use: CDK may allocate a logical id before a subclass's __init__ ends.
    _memo_: _Memo | None = None

    @property
    def _memo(self) -> _Memo:
        if self._memo_ is None:
            self._memo_ = _Memo(_NOT_ALPHANUMERIC.sub("", self.node.id))
        return self._memo_

    # The leading underscore is the jsii binding of the protected `allocateLogicalId`: a
    # method named `allocate_logical_id` would be silently ignored.
    def _allocate_logical_id(self, cfn_element: CfnElement) -> str:
        # As Stack.allocateLogicalId: the ids of the scopes below the element's stack.
        scopes = cfn_element.node.scopes
        below = scopes[scopes.index(cfn_element.stack) + 1 :]
        logical_id = make_unique_id(
            [self._free_component(s.node.id) for s in below if not isinstance(s, Concern)]
        )
        path = self._memo.paths.setdefault(logical_id, cfn_element.node.path)
        if path != cfn_element.node.path:
            # Concerns are not part of the id: two of them must not use the same child id.
            raise ValueError(
                f"{cfn_element.node.path} and {path} would both be {logical_id}: "
                "give one of them another construct id"
            )
        # CDK asks again on every reference it resolves, each a call into Python (synthesis
        # took 7 times as long); CDK answers an overridden logical id itself. (Hence, too,
        # Stack.renameLogicalId would not apply here: nothing in this stack renames.)
        cfn_element.override_logical_id(logical_id)
        return logical_id

    def _free_component(self, component: str) -> str:
        """A construct id with any `Names.uniqueId` it embeds taken back to before concerns.

        CDK names some constructs after another one's unique id (a Lambda permission after
        its API, an event source mapping after its queue, a subscription after its topic),
        and that id includes the concerns. Such ids contain the stack's name.
        """
        if self._memo.stack_name not in component:
            return component
        free = self._memo.components.get(component)
        if free is None:
            free = self._translate(component)
            if free == component:
                # Not known yet; the construct an id embeds exists before any construct
                # named after it, so a refresh now finds it if there is one.
                self._refresh_unique_ids()
                free = self._translate(component)
            self._memo.components[component] = free
        return free

    def _translate(self, component: str) -> str:
        for with_concerns, without in self._memo.unique_ids.items():
            component = component.replace(with_concerns, without)
        return component

    def _refresh_unique_ids(self) -> None:
        # From paths, not scopes: two calls into CDK per construct instead of a dozen.
        constructs = self.node.find_all()
        concerns = {c.node.path for c in constructs if isinstance(c, Concern)}
        for construct in constructs:
            ids = construct.node.path.split("/")
            free = [i for n, i in enumerate(ids) if "/".join(ids[: n + 1]) not in concerns]
            if len(free) < len(ids) and not isinstance(construct, Concern):
                self._memo.unique_ids[make_unique_id(ids)] = make_unique_id(free)
