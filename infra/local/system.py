"""The whole system on one machine: moto server, resources from the topology, the gateway.

Used by `make run` (see `infra/local/__main__.py`) and by the end-to-end tests, so tests
exercise exactly what a developer runs.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from moto.server import ThreadedMotoServer

from catalog.core import settings as catalog_settings
from infra import topology
from infra.local.functions import LocalFunction
from infra.local.gateway import LocalGateway
from infra.local.moto import apply_correctness, apply_server_speedups
from infra.local.provision import (
    physical_name,
    provision,
    provision_events,
    provision_media_delivery,
    provision_user_pool,
)
from infra.local.pump import EventPump
from infra.stages import stage as stage_config

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def local_environment(
    spec: topology.Function,
    stage: str,
    names: dict[str, dict[str, str]],
    user_pool: topology.UserPoolRefs,
    images_base_url: str,
) -> dict[str, str]:
    """The environment a function gets locally: the topology's, with the resources the
    local runner provisioned (`names`, as `provision*` return them)."""
    return topology.function_environment(
        spec,
        stage=stage,
        table_names=names["tables"],
        secret_ids=names["secrets"],
        user_pool=user_pool,
        settings=stage_config(stage).function_settings(),
        bucket_names=names["buckets"],
        topic_arns=names["topics"],
        queue_urls=names["queues"],
        images_base_url=images_base_url,
    )


@dataclass
class LocalSystem:
    stage: str = "local"
    host: str = "127.0.0.1"
    port: int = 3000
    aws_port: int = 0  # 0: any free port
    # The stage's API Gateway throttles (off for test suites whose many sign-ins per second
    # are not what they test; the gateway's throttling tests keep it on).
    throttling: bool = True
    # The event sources the pump plays (None: all of the topology's); a test may leave out
    # those it does not test.
    queue_sources: Sequence[topology.QueueSource] | None = None
    streams: Sequence[topology.StreamSource] | None = None
    region: str = "us-east-1"
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    user_pool: topology.UserPoolRefs | None = None
    other_client_id: str = ""  # a second app client of the pool, for tests
    _moto: ThreadedMotoServer | None = None
    gateway: LocalGateway | None = None
    events: EventPump | None = None
    # Set when what the runner writes at start (demo users, seed data) is in place; until
    # then the gateway answers health with 503 (infra.local.gateway.server).
    ready: threading.Event = field(default_factory=threading.Event)

    @property
    def aws_url(self) -> str:
        assert self._moto is not None
        host, port = self._moto.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    @property
    def images_base_url(self) -> str:
        """Where renditions are served locally: the media bucket, path-style, on moto server
        (which serves objects without signatures; in the cloud CloudFront serves `images/`)."""
        return f"{self.aws_url}/{self.names['buckets'][topology.MEDIA_BUCKET]}"

    def start(self, *, ready: bool = True) -> LocalSystem:
        """Start everything; with `ready=False`, health answers 503 until `mark_ready()`."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
        apply_correctness()
        apply_server_speedups()
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self._moto.start()
        # Every AWS client in this process (functions included) talks to moto server: the
        # code is the same as in the cloud, only the endpoint differs.
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.update(
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            AWS_ENDPOINT_URL=self.aws_url,
            POWERTOOLS_TRACE_DISABLED="true",
        )
        self.names = provision(self.stage, self.aws_url, self.region)
        self.names.update(provision_events(self.stage, self.aws_url, self.region))
        self.user_pool, self.other_client_id = provision_user_pool(
            self.stage, self.aws_url, self.region
        )
        provision_media_delivery(
            self.names["buckets"][topology.MEDIA_BUCKET], self.aws_url, self.region
        )
        functions = {}
        for spec in topology.FUNCTIONS.values():
            environment = local_environment(
                spec, self.stage, self.names, self.user_pool, self.images_base_url
            )
            os.environ.update(environment)
            functions[spec.name] = LocalFunction(
                spec, physical_name(spec.name, self.stage), self.region, frozenset(environment)
            )
        # The gateway's authorizer reads the pool's settings as the functions do.
        catalog_settings.settings.cache_clear()
        if ready:
            self.ready.set()
        self.gateway = LocalGateway(
            functions,
            self.stage,
            self.host,
            self.port,
            throttling=self.throttling,
            ready=self.ready,
        )
        self.gateway.start()
        # Stream records, S3 notifications and SQS messages reach the same functions.
        self.events = EventPump(
            functions,
            self.names,
            endpoint_url=self.aws_url,
            region=self.region,
            queue_sources=self.queue_sources,
            streams=self.streams,
        ).start()
        return self

    def mark_ready(self) -> None:
        """What the runner writes at start is in place: health may answer 200 from now on."""
        self.ready.set()

    def drain_events(self, timeout: float = 30.0) -> None:
        """Wait until every event has been delivered (or given up on); for tests."""
        assert self.events is not None
        self.events.drain(timeout)

    def stop(self) -> None:
        if self.events is not None:
            self.events.stop()
        if self.gateway is not None:
            self.gateway.stop()
        if self._moto is not None:
            self._moto.stop()
