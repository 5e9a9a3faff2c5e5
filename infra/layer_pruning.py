"""What the core layer leaves out of its third-party packages, and the guard that keeps local
runs honest about it.

Every byte of a layer is downloaded on a cold start, so `scripts/build_layers.py` drops the
parts of installed packages that no function can reach. The same list is enforced locally:
`guard()` (installed by the tests and by `make run`) makes importing a pruned module fail
the way it would in Lambda, so a function that starts to need one fails `make test`, not a
deployment.
"""

from __future__ import annotations

import fnmatch
import importlib.abc
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

# Bytecode: the build compiles the layers for the runtime's Python (scripts/build_layers.py
# compile_bytecode); local runs (the tests, `make run`, `make bench`) leave their own
# Python's beside it, which the runtime cannot use. A code asset ships the runtime's only:
# NOT_SHIPPED in CDK's glob form (a later `!` pattern takes a file back), `shipped` as a test.
RUNTIME_BYTECODE = "cpython-312"
NOT_SHIPPED = ("*.pyc", f"!*.{RUNTIME_BYTECODE}.pyc")


def shipped(name: str) -> bool:
    """Whether an asset ships the file `name`: NOT_SHIPPED read as CDK reads it (each
    pattern matches the file's name; the last that matches decides, `!` keeps)."""
    kept = True
    for pattern in NOT_SHIPPED:
        if fnmatch.fnmatchcase(name, pattern.removeprefix("!")):
            kept = pattern.startswith("!")
    return kept


# Modules (with their submodules) no function imports, each with why.
PRUNED_MODULES: dict[str, str] = {
    "aws_lambda_powertools.utilities.auth_alpha": "experimental; we authorize in catalog.core",
    "aws_lambda_powertools.utilities.circuit_breaker": "no circuit breaker in use",
    "aws_lambda_powertools.utilities.data_masking": "no field encryption in use",
    "aws_lambda_powertools.utilities.feature_flags": "no feature flags in use",
    "aws_lambda_powertools.utilities.kafka": "no Kafka consumers",
    "aws_lambda_powertools.utilities.streaming": "no S3 streaming (images reads whole objects)",
    "aws_lambda_powertools.utilities.validation": "pydantic validates; no JSON Schema",
    "pydantic.v1": "the pydantic 1 compatibility copy; everything here is pydantic 2",
    "pyasn1": "rsa needs it only to read PEM/DER keys; keys come from the JWKS as numbers",
    "pydantic.mypy": "pydantic's mypy plugin, for type checking only",
    "pydantic.experimental": "pydantic's experimental pipeline API, not used",
    "pydantic.color": "deprecated in pydantic 2 (pydantic-extra-types has it); unused",
    "wrapt._wrappers": (
        "wrapt's C extension, 164 KiB zipped with its debug symbols: wrapt falls back to its"
        " pure-Python wrappers, which X-Ray's patches of AWS calls use (tracing is on in the"
        " cloud only), at microseconds per AWS call"
    ),
}
# Powertools loads these two packages lazily (catalog.runtime), so the parts
# for event sources we don't have are never imported: resolvers other than the REST one...
PRUNED_MODULES |= {
    f"aws_lambda_powertools.event_handler.{name}": "a resolver for an event source we don't have"
    for name in (
        "appsync",
        "bedrock_agent",
        "bedrock_agent_function",
        "events_appsync",
        "graphql_appsync",
        "http_resolver",
        "lambda_function_url",
        "vpc_lattice",
    )
}
# ...and the event classes of sources no function consumes (the resolver and the batch
# processor use the others).
PRUNED_MODULES |= {
    f"aws_lambda_powertools.utilities.data_classes.{name}": "an event source we don't consume"
    for name in (
        "active_mq_event",
        "api_gateway_authorizer_event",
        "api_gateway_websocket_event",
        "appsync",
        "appsync_authorizer_event",
        "appsync_resolver_event",
        "appsync_resolver_events_event",
        "aws_config_rule_event",
        "bedrock_agent_function_event",
        "cloud_watch_alarm_event",
        "cloud_watch_custom_widget_event",
        "cloudformation_custom_resource_event",
        "code_deploy_lifecycle_hook_event",
        "code_pipeline_job_event",
        "cognito_user_pool_event",
        "connect_contact_flow_event",
        "iot_registry_event",
        "kinesis_firehose_event",
        "rabbit_mq_event",
        "s3_batch_operation_event",
        "s3_object_event",
        "secrets_manager_event",
        "ses_event",
        "transfer_family_event",
    )
}
# The batch processor reads its records' parser models (SQS, DynamoDB streams, Kinesis, Kafka),
# which Powertools loads one by one on first use; the other models and the envelopes are unused.
PRUNED_MODULES |= {
    f"aws_lambda_powertools.utilities.parser.models.{name}": "a parser model of a source we lack"
    for name in (
        "alb",
        "apigw",
        "apigw_websocket",
        "apigwv2",
        "appsync",
        "appsync_events",
        "bedrock_agent",
        "cloudformation_custom_resource",
        "cognito",
        "event_bridge",
        "iot_registry_events",
        "kinesis_firehose",
        "kinesis_firehose_sqs",
        "lambda_function_url",
        "s3",
        "s3_batch_operation",
        "s3_event_notification",
        "s3_object_event",
        "ses",
        "sns",
        "transfer_family",
        "vpc_lattice",
        "vpc_latticev2",
    )
}
PRUNED_MODULES["aws_lambda_powertools.utilities.parser.envelopes"] = "no parser envelopes in use"
PRUNED_MODULES |= {
    "aws_lambda_powertools.metrics.provider.datadog": "metrics go to CloudWatch (EMF), not Datadog",
    "aws_lambda_powertools.utilities.idempotency.persistence.redis": "idempotency is in DynamoDB",
    "aws_lambda_powertools.utilities.idempotency.persistence.cache": "as above (a Redis cache)",
    "rsa.cli": "rsa's command-line tools",
    "rsa.parallel": "rsa's multi-process key generation; we only verify signatures",
}
# Parameters are loaded lazily too (catalog.runtime); only secrets are read.
PRUNED_MODULES |= {
    f"aws_lambda_powertools.utilities.parameters.{name}": "a parameter store we don't read"
    for name in ("appconfig", "appconfig_extension", "dynamodb", "ssm")
}
# The X-Ray SDK's patches for libraries the layer doesn't have. Tracer patches every library
# it supports and skips those it cannot import; it keeps botocore, pynamodb, httplib, sqlite3.
PRUNED_MODULES |= {
    f"aws_xray_sdk.ext.{name}": "X-Ray's patch for a library the layer doesn't have"
    for name in (
        "aiobotocore",
        "aiohttp",
        "bottle",
        "django",
        "flask",
        "flask_sqlalchemy",
        "httpx",
        "mysql",
        "pg8000",
        "psycopg",
        "psycopg2",
        "pymongo",
        "pymysql",
        "requests",
        "sqlalchemy",
        "sqlalchemy_core",
    )
}
# Data files no function reads (paths inside the layer's python/ folder, as glob patterns).
PRUNED_FILES: dict[str, str] = {
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js": (
        "Swagger UI: only the meta function serves it (/v1/docs), from its own folder (make build)"
    ),
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.css": "as above",
    "**/*.pyi": "type stubs: read by type checkers, never at run time",
    "**/py.typed": "a marker for type checkers",
    "wrapt-stubs": "type stubs",
    "wrapt/_wrappers.c": "the C source of wrapt's extension, which ships compiled",
    "*.dist-info/RECORD": "pip's list of installed files, for uninstalling",
    "*.dist-info/sboms": "software bills of materials, for scanners",
}


def is_pruned(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in PRUNED_MODULES)


def module_folders() -> list[str]:
    """Each pruned module as a path inside the layer (a package folder or a module file)."""
    return [name.replace(".", "/") for name in PRUNED_MODULES]


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if is_pruned(fullname):
            raise ModuleNotFoundError(
                f"{fullname} is left out of the Lambda layer (infra/layer_pruning.py)",
                name=fullname,
            )


_installing = threading.Lock()


def guard() -> None:
    """Refuse pruned modules in this process, as Lambda would (idempotent, thread-safe)."""
    with _installing:
        if any(isinstance(finder, _Refuse) for finder in sys.meta_path):
            return
        # A copy: other threads (the local runner's functions) may be importing meanwhile.
        loaded = sorted(name for name in list(sys.modules) if is_pruned(name))
        if loaded:
            raise RuntimeError(f"Pruned modules were imported before the guard: {loaded}")
        sys.meta_path.insert(0, _Refuse())
