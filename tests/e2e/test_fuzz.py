"""Schemathesis against the local stack: every operation of the served OpenAPI document,
as an admin and as an editor, case by case (examples, coverage and fuzzing phases) and in
sequences that follow the document's links (the stateful phase).

Every answer must pass `CHECKS`. The fuzzer runs against a local system of its own (a
child process, `tests/separate_system.py`): it signs up, resets passwords, wakes webhooks
and makes data no other test expects. It signs in as users of its own (one per role, plus
a twin per role that only signs out), and deletes what it creates afterwards, so each
phase meets the system as the one before left it, not cluttered.

Exclusions, each with its reason, are in `DOMAIN_RULES`: answers to a request the schema
allows, refused for what no schema can know.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.local.demo_users import login
from tests.contract import document
from tests.separate_system import separate_system
from tests.users import PASSWORD, new_user

# One worker runs the module, so both roles' runs share one system.
pytestmark = [pytest.mark.xdist_group("fuzz"), pytest.mark.timeout(600)]

ROLES = ("admin", "editor")
# Fuzzing phase: cases per operation (the coverage phase adds its own, deterministic ones).
MAX_EXAMPLES = 6
SEED = 17
RUNS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
STATEFUL_RUNS = settings(
    max_examples=8,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
}

# Answers to a request its schema allows that are right all the same: the problem's `type`,
# or the `type` of every field error of a validation problem, says the API refused it for
# a rule of the domain, which a schema cannot state.
DOMAIN_RULES = {
    "invalid-cursor": "a cursor is signed by the API: only one the API issued is valid",
    "bad-request": "a confirmation or reset code is a secret emailed to the account",
    "unknown": "a category named (a product's, a parent, a subscription) must exist",
    "parent": "a category cannot be its own ancestor",
    "refused_url": "a webhook host must resolve to public addresses (nothing resolves offline)",
    "combination": "filters that cannot hold together (max_price below min_price)",
}


def _domain_rule(response: Any) -> str | None:
    """The rule of `DOMAIN_RULES` a problem answer names, if every part of it names one."""
    if response.status_code not in (400, 422):
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        return None
    kind = str(problem.get("type", "")).rsplit(":", 1)[-1]
    if kind in DOMAIN_RULES:
        return kind
    errors = problem.get("errors") or []
    kinds = {str(error.get("type")) for error in errors}
    if kind == "validation-error" and errors and kinds <= DOMAIN_RULES.keys():
        return ",".join(sorted(kinds))
    return None


def positive_data_acceptance_but_domain_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' `positive_data_acceptance`, except for answers of `DOMAIN_RULES`."""
    if _domain_rule(response) is not None:
        return None
    return positive_data_acceptance(ctx, response, case)


# API Gateway's quota on a request's URL (path and query string): its front end answers a
# longer one 414 before any route, so no operation documents it. Only a schema-invalid
# case can be that long (every string the URL takes has a documented maximum length).
URL_QUOTA = 10_240


def _over_the_url_quota(response: Any) -> bool:
    parts = urlsplit(str(response.request.url))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return response.status_code == 414 and len(target) > URL_QUOTA


def status_code_conformance_but_url_quota(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' `status_code_conformance`, except for 414 to a URL over the quota."""
    if _over_the_url_quota(response):
        return None
    return status_code_conformance(ctx, response, case)


def negative_data_rejection_but_url_quota(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' `negative_data_rejection`, which takes a 414 to a URL over the quota
    for a refusal too (its list of refusing statuses leaves 414 out)."""
    if _over_the_url_quota(response):
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance_but_url_quota,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection_but_url_quota,
    positive_data_acceptance_but_domain_rules,
]

LOGOUT = "POST /v1/auth/logout"


@dataclass
class Caller:
    """The fuzzer's signed-in user of one role, and a twin of the same role that signs out
    (a sign-out ends every session of its user, so the main user never sends it)."""

    base_url: str
    role: str
    token: str
    twin_email: str
    twin_token: str = ""
    signed_out_until: float = 0.0
    cases: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    created: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, base_url: str, role: str) -> Caller:
        user = new_user(base_url, role, tag=f"fuzz-{role}")
        twin = new_user(base_url, role, tag=f"fuzz-{role}-twin")
        return cls(base_url, role, user.token, twin.email)

    def headers(self, case: Any) -> dict[str, str]:
        self.cases += 1
        self.phases[case.meta.phase.name.value if case.meta else "unknown"] += 1
        if case.operation.label != LOGOUT:
            return {"Authorization": f"Bearer {self.token}"}
        # A sign-out ends the twin's sessions, and tokens issued within its second count as
        # issued before it: a case within that second sends the ended session (a 401).
        if time.time() >= self.signed_out_until:
            self.twin_token = login(self.base_url, self.twin_email, PASSWORD)
            self.signed_out_until = math.floor(time.time()) + 1.0
        return {"Authorization": f"Bearer {self.twin_token}"}

    def record(self, case: Any, response: Any) -> None:
        """Remember what a create made (its `Location`), to delete it afterwards."""
        location = response.headers.get("location")  # Schemathesis: lowercase, a list
        if case.method.upper() == "POST" and response.status_code == 201 and location:
            self.created.append(location[0])

    def report(self, how: str) -> None:
        """The figures of a run (shown with `pytest -s`)."""
        phases = ", ".join(f"{n} {phase}" for phase, n in sorted(self.phases.items()))
        print(f"\nfuzzed as {self.role}, {how}: {self.cases} cases ({phases})", flush=True)

    def clean_up(self) -> None:
        """Delete what the fuzzer made, newest first (products before their category)."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        kept = []
        for location in reversed(self.created):
            path = location.split("://", 1)[-1].split("/", 1)[-1]
            if path.count("/") == 2:  # /v1/<resource>/<id>: not an image upload's form
                answer = session.delete(f"{self.base_url}/{path}", timeout=30)
                if answer.status_code not in (204, 404):  # 404: the fuzzer deleted it
                    kept.append(f"{path}: {answer.status_code}")
        session.put(f"{self.base_url}/v1/users/me/subscriptions", json={"categories": []})
        print(f"fuzzed as {self.role}: {len(self.created)} made, kept {kept}", flush=True)


def _schema(base_url: str) -> Any:
    """The document the API serves, which is the committed one (tests/unit/test_topology.py)."""
    served = schemathesis.openapi.from_url(
        f"{base_url}/v1/openapi.json", config=SchemathesisConfig.from_dict(CONFIG)
    )
    assert served.raw_schema == document
    return served


@pytest.fixture(scope="module")
def fuzzed_url() -> Iterator[str]:
    """The base URL of the fuzzer's own system."""
    with separate_system() as system:
        yield system.url


@pytest.fixture(scope="module", params=ROLES)
def caller(request: pytest.FixtureRequest, fuzzed_url: str) -> Iterator[Caller]:
    signed_in = Caller.of(fuzzed_url, request.param)
    yield signed_in
    signed_in.report("case by case")
    signed_in.clean_up()


@pytest.fixture
def served_document(fuzzed_url: str, caller: Caller, request: pytest.FixtureRequest) -> Any:
    # Schemathesis 4.32 names each operation's part of a lazily loaded test through the
    # node's `_nodeid`, which pytest 9 no longer has (its id is `_id`): one to read and set.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    return _schema(fuzzed_url)


# Loaded when the test runs (its cases are built then, on the worker that runs it), from
# the fuzzed system's own URL.
schema = schemathesis.pytest.from_fixture("served_document")


@schema.parametrize()
@RUNS
def test_every_operation_answers_as_documented(case: Any, caller: Caller) -> None:
    response = case.call(base_url=caller.base_url, headers=caller.headers(case))
    caller.record(case, response)
    case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("role", ROLES)
def test_sequences_along_the_links_answer_as_documented(fuzzed_url: str, role: str) -> None:
    signed_in = Caller.of(fuzzed_url, role)
    base = _schema(fuzzed_url).as_state_machine()

    class Sequences(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": signed_in.base_url, "headers": signed_in.headers(case)}

        def after_call(self, response: Any, case: Any) -> None:
            signed_in.record(case, response)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    try:
        Sequences.run(settings=STATEFUL_RUNS)
    finally:
        signed_in.report("in sequences")
        signed_in.clean_up()
