"""The catalog's CloudFormation stack, built only from `infra.topology` and one `Stage`.

One construct per concern (see docs/architecture.md); this module only composes them, in the
order their needs dictate.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Tags
from constructs import Construct

from infra import topology
from infra.stack.alerting import Alerting
from infra.stack.api import Api
from infra.stack.backups import Backups
from infra.stack.cdn import Cdn
from infra.stack.data import Data
from infra.stack.edge import Edge
from infra.stack.events import Events
from infra.stack.functions import (
    BUCKET_READ_ACTIONS as BUCKET_READ_ACTIONS,
    BUCKET_WRITE_ACTIONS as BUCKET_WRITE_ACTIONS,
    FUNCTION_TAG as FUNCTION_TAG,
    QUEUE_SEND_ACTIONS as QUEUE_SEND_ACTIONS,
    TABLE_READ_ACTIONS as TABLE_READ_ACTIONS,
    TABLE_SCAN_ACTIONS as TABLE_SCAN_ACTIONS,
    TABLE_WRITE_ACTIONS as TABLE_WRITE_ACTIONS,
    Functions,
)
from infra.stack.identity import (
    COGNITO_ADMIN_ACTIONS as COGNITO_ADMIN_ACTIONS,
    COGNITO_AUTO_CONFIRM_ACTIONS as COGNITO_AUTO_CONFIRM_ACTIONS,
    PASSWORD_MIN_LENGTH as PASSWORD_MIN_LENGTH,
    Identity,
)
from infra.stack.logical_ids import ConcernFreeStack
from infra.stack.media import Media
from infra.stack.migrations import Migrations
from infra.stack.monitoring import Monitoring
from infra.stages import Stage


class CatalogStack(ConcernFreeStack):
    """Tables and their backups, secrets, the user pool, the event plumbing, media,
    functions, API, its edge cache, WAF, alarms, and the deploy's data migrations."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        env: Environment | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        topology.validate()
        self.stage = stage
        Tags.of(self).add("project", topology.SERVICE_NAME)
        Tags.of(self).add("stage", stage.name)

        # First: the monitoring's alarms name its topic.
        self.alerting = Alerting(self, "Alerting", stage=stage)
        self.data = Data(self, "Data", stage=stage)
        self.backups = Backups(self, "Backups", stage=stage, tables=self.data.tables)
        self.identity = Identity(self, "Identity", stage=stage)
        # Before the functions: their environment names the queues, topics and buckets...
        self.events = Events(self, "Events", stage=stage)
        # ...and where images are served (IMAGES_BASE_URL); the images layer is media's too.
        self.media = Media(
            self, "Media", stage=stage, bucket=self.events.buckets.get(topology.MEDIA_BUCKET)
        )
        self.functions = Functions(
            self,
            "Functions",
            stage=stage,
            data=self.data,
            identity=self.identity,
            events=self.events,
            media=self.media,
        )
        self.events.add_event_sources(self.functions.functions, self.data.tables)
        self.api = Api(
            self,
            "Api",
            stage=stage,
            functions=self.functions.api_targets,
            user_pool=self.identity.user_pool,
        )
        self.cdn = (
            Cdn(self, "Cdn", stage=stage, rest_api=self.api.rest_api) if stage.edge_cache else None
        )
        self.edge = Edge(
            self, "Edge", stage=stage, api_stage=self.api.rest_api.deployment_stage, cdn=self.cdn
        )
        # Last: a deploy migrates the data once every function runs the new code.
        self.migrations = Migrations(
            self,
            "Migrations",
            stage=stage,
            function=self.functions.functions[topology.DEPLOY_RUNNER],
            after=list(self.functions.functions.values()),
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            functions=self.functions.functions,
            log_groups=self.functions.log_groups,
            api=self.api.rest_api,
            access_logs=self.api.access_logs,
            tables=self.data.tables,
            queues=self.events.queues,
            dead_letter_queues=self.events.dead_letter_queues,
            state_machine=self.migrations.state_machine,
            web_acl=self.edge.web_acl,
            topic=self.alerting.topic,
        )
        # Last of all: every alarm made above notifies the ops topic (the monitoring's own
        # already do, through its action strategy).
        self.alerting.route(self)
        self._build_outputs()

    def _build_outputs(self) -> None:
        CfnOutput(
            self,
            "ApiUrl",
            value=self.api.rest_api.url,
            description="Base URL of the catalog API",
        )
        CfnOutput(
            self,
            "UserPoolId",
            value=self.identity.user_pool.user_pool_id,
            description="Cognito user pool of the catalog's users",
        )
        CfnOutput(
            self,
            "UserPoolClientId",
            value=self.identity.client.user_pool_client_id,
            description="App client the API's sign-in endpoints use (no secret)",
        )
        CfnOutput(
            self,
            "MigrationsStateMachineArn",
            value=self.migrations.state_machine.state_machine_arn,
            description="What each deploy runs to apply pending data migrations (start by hand)",
        )
