"""What tells people something is wrong: function and API alarms, the dashboard, and the
tracking of unexpected errors (a count per fingerprint, saved Logs Insights queries)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import (
    Duration,
    aws_apigateway as apigateway,
    aws_cloudwatch as cloudwatch,
    aws_lambda as lambda_,
    aws_logs as logs,
)
from constructs import Construct

from infra import topology
from infra.stack import base
from infra.stack.base import Concern, construct_name
from infra.stages import Stage

FIVE_MINUTES = Duration.minutes(5)
# Lines of catalog.core.failures: one per unexpected error, with its fingerprint.
UNEXPECTED_ERRORS = "UnexpectedErrors"


class Monitoring(Concern):
    """Exposes `function_alarms` (by function name), `api_alarm`, `dashboard`,
    `error_filters` (by function name) and `queries` (by name); needs the functions, their log
    groups, the API and its access logs.
    (Each dead-letter queue's alarm is the event plumbing's own: see `Events`.)"""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        functions: Mapping[str, lambda_.Function],
        log_groups: Mapping[str, logs.LogGroup],
        api: apigateway.RestApi,
        access_logs: logs.LogGroup,
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        # Every alarm's actions are the ops topic's (infra/stack/alerting.py routes them).
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
        self.latency_alarm = self._build_latency_alarm(api)
        self.throttle_alarms = {
            name: self._build_alarm(
                f"Fn{construct_name(name)}ThrottlesAlarm",
                f"{name} function throttled",
                function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
            )
            for name, function in functions.items()
        }
        self.duration_alarms = {
            name: self._build_duration_alarm(name, function) for name, function in functions.items()
        }
        self.iterator_age_alarms = {
            stream.consumer: self._build_iterator_age_alarm(stream.consumer, functions)
            for stream in topology.STREAMS
        }
        self.dashboard = self._build_dashboard(functions, api)
        self.error_filters = {
            name: self._build_error_filter(name, group) for name, group in log_groups.items()
        }
        self.queries = self._build_queries(list(log_groups.values()), access_logs)

    def _build_alarm(
        self, construct_id: str, what: str, metric: cloudwatch.IMetric
    ) -> cloudwatch.Alarm:
        return base.any_occurrence_alarm(
            self, construct_id, f"catalog {self.stage.name}: {what}", metric
        )

    def _sustained_alarm(
        self, construct_id: str, what: str, metric: cloudwatch.IMetric, threshold: float
    ) -> cloudwatch.Alarm:
        """An alarm raised when `metric` stays over `threshold` for 15 minutes (3 periods)."""
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=f"catalog {self.stage.name}: {what} for 15 minutes",
            metric=metric,
            threshold=threshold,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _build_latency_alarm(self, api: apigateway.RestApi) -> cloudwatch.Alarm:
        limit = self.stage.api_p99_alarm_ms
        return self._sustained_alarm(
            "ApiLatencyAlarm",
            f"API p99 latency over {limit} ms",
            api.metric_latency(period=FIVE_MINUTES, statistic="p99"),
            limit,
        )

    def _build_duration_alarm(self, name: str, function: lambda_.Function) -> cloudwatch.Alarm:
        """A function whose slowest invocations near its timeout: the next ones time out."""
        return self._sustained_alarm(
            f"Fn{construct_name(name)}DurationAlarm",
            f"{name} p99 duration over 80% of its timeout",
            function.metric_duration(period=FIVE_MINUTES, statistic="p99"),
            topology.FUNCTIONS[name].timeout_s * 1000 * 0.8,
        )

    def _build_iterator_age_alarm(
        self, consumer: str, functions: Mapping[str, lambda_.Function]
    ) -> cloudwatch.Alarm:
        """A stream consumer falling behind: change events go out late (records expire after
        24 hours)."""
        return self._sustained_alarm(
            f"Fn{construct_name(consumer)}IteratorAgeAlarm",
            f"{consumer} over 5 minutes behind its stream",
            functions[consumer].metric("IteratorAge", period=FIVE_MINUTES, statistic="Maximum"),
            5 * 60 * 1000,
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

    def _build_error_filter(self, name: str, group: logs.LogGroup) -> logs.MetricFilter:
        """Unexpected errors of one function, counted per fingerprint."""
        return logs.MetricFilter(
            self,
            f"Fn{construct_name(name)}UnexpectedErrors",
            log_group=group,
            filter_pattern=logs.FilterPattern.exists("$.fingerprint"),
            metric_namespace=topology.METRICS_NAMESPACE,
            metric_name=UNEXPECTED_ERRORS,
            metric_value="1",
            dimensions={"Fingerprint": "$.fingerprint", "Function": "$.function_name"},
        )

    def _build_queries(
        self, function_logs: list[logs.LogGroup], access_logs: logs.LogGroup
    ) -> dict[str, logs.QueryDefinition]:
        """Saved Logs Insights queries, listed under `catalog-<stage>/` in the console."""
        prefix = f"catalog-{self.stage.name}"
        queries = {
            "top-errors": (
                function_logs,
                logs.QueryString(
                    filter_statements=["ispresent(fingerprint)"],
                    stats=(
                        "count(*) as errors, latest(failure) as failure, latest(route) as "
                        "route, latest(@timestamp) as last_seen by fingerprint"
                    ),
                    sort="errors desc",
                    limit=50,
                ),
            ),
            "slowest-routes": (
                [access_logs],
                logs.QueryString(
                    filter_statements=["ispresent(resourcePath)"],
                    stats=(
                        "count(*) as requests, pct(responseLatency, 50) as p50, "
                        "pct(responseLatency, 99) as p99, max(responseLatency) as slowest "
                        "by httpMethod, resourcePath"
                    ),
                    sort="p99 desc",
                    limit=50,
                ),
            ),
            # Replace REQUEST_ID with the `requestId` of an access log line, or a response's
            # problem's request: the functions' lines carry it as correlation_id.
            "request-story": (
                [access_logs, *function_logs],
                logs.QueryString(
                    fields=[
                        "@timestamp",
                        "@log",
                        "function_name",
                        "level",
                        "message",
                        "status",
                        "failure",
                    ],
                    filter_statements=['correlation_id = "REQUEST_ID" or requestId = "REQUEST_ID"'],
                    sort="@timestamp asc",
                    limit=500,
                ),
            ),
        }
        return {
            name: logs.QueryDefinition(
                self,
                f"Query{construct_name(name)}",
                query_definition_name=f"{prefix}/{name}",
                query_string=query,
                log_groups=groups,
            )
            for name, (groups, query) in queries.items()
        }
