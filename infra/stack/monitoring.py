"""What tells people something is wrong: function and API alarms, and the dashboard."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import (
    Duration,
    aws_apigateway as apigateway,
    aws_cloudwatch as cloudwatch,
    aws_lambda as lambda_,
)
from constructs import Construct

from infra.stack import base
from infra.stack.base import Concern, construct_name
from infra.stages import Stage

FIVE_MINUTES = Duration.minutes(5)


class Monitoring(Concern):
    """Exposes `function_alarms` (by function name), `api_alarm` and `dashboard`; needs the
    functions and the API.
    (Each dead-letter queue's alarm is the event plumbing's own: see `Events`.)"""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        functions: Mapping[str, lambda_.Function],
        api: apigateway.RestApi,
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        # No alarm actions yet: the notification topic comes with the change-events work.
        self.function_alarms = {
            name: self._build_alarm(
                f"Fn{construct_name(name)}ErrorsAlarm",
                f"{name} function errors",
                function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            )
            for name, function in functions.items()
        }
        self.api_alarm = self._build_alarm(
            "Api5xxAlarm",
            "API answered 5XX",
            api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
        )
        self.dashboard = self._build_dashboard(functions, api)

    def _build_alarm(
        self, construct_id: str, what: str, metric: cloudwatch.IMetric
    ) -> cloudwatch.Alarm:
        return base.any_occurrence_alarm(
            self, construct_id, f"catalog {self.stage.name}: {what}", metric
        )

    def _build_dashboard(
        self, functions: Mapping[str, lambda_.Function], api: apigateway.RestApi
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API requests", left=[api.metric_count(statistic="Sum")]),
            cloudwatch.GraphWidget(
                title="API latency",
                left=[api.metric_latency(statistic=p) for p in ("p50", "p90", "p99")],
            ),
            cloudwatch.GraphWidget(
                title="API errors",
                left=[
                    api.metric_client_error(statistic="Sum"),
                    api.metric_server_error(statistic="Sum"),
                ],
            ),
        )
        named = functions.items()
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[f.metric_errors(statistic="Sum", label=n) for n, f in named],
            ),
            cloudwatch.GraphWidget(
                title="Function duration p90",
                left=[f.metric_duration(statistic="p90", label=n) for n, f in named],
            ),
            cloudwatch.GraphWidget(
                title="Function throttles",
                left=[f.metric_throttles(statistic="Sum", label=n) for n, f in named],
            ),
        )
        return dashboard
