"""What tells people something is wrong: the stage's alarms and its operations dashboard
(cdk-monitoring-constructs), and the tracking of unexpected errors (a count per fingerprint,
saved Logs Insights queries).

Driven by the topology: every function, table (and each of its indexes) and queue the
stack builds is monitored, so a capability that adds one gets its alarms and its dashboard
lines without an edit here. The library (`MonitoringFacade`) makes the alarms and the
dashboard; its action strategy sends every alarm it makes to the ops topic, firing and
clearing (infra/stack/alerting.py routes any other alarm of the stack the same way).

Hand-written here, because the library has no construct for them: the metric filter that
counts unexpected errors per fingerprint (it monitors metrics, not filters that make them),
the saved Logs Insights queries, and the init-duration widget (a Logs Insights query of the
REPORT lines, see `_init_duration_widget`). Hand-written elsewhere: the WAF's blocked-request
alarm (infra/stack/edge.py, beside its web ACL: its threshold is a stage setting of the
edge) and the failed-migrations alarm (infra/stack/migrations.py: failed plus timed-out runs
in one math expression, which the library's step-function monitor splits in two alarms).
"""

from __future__ import annotations

from collections.abc import Mapping

import cdk_monitoring_constructs as mc
from aws_cdk import (
    Duration,
    Stack,
    aws_apigateway as apigateway,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_lambda as lambda_,
    aws_logs as logs,
    aws_sns as sns,
    aws_sqs as sqs,
    aws_stepfunctions as sfn,
    aws_wafv2 as wafv2,
)
from constructs import Construct

from catalog.core import business_metrics
from infra import topology
from infra.stack.base import Concern, construct_name
from infra.stages import Stage

FIVE_MINUTES = Duration.minutes(5)
# Lines of catalog.core.failures: one per unexpected error, with its fingerprint.
UNEXPECTED_ERRORS = "UnexpectedErrors"
# Sustained alarms (latency, duration, lag) fire when 3 five-minute periods in a row breach.
SUSTAINED = {"datapoints_to_alarm": 3, "evaluation_periods": 3}
# No data is no news: an idle queue (SQS stops reporting after 6 idle hours) or a stream with
# nothing to read must neither alarm nor send an OK each time it wakes up.
# CloudWatch: an alarm on a metric math expression watches at most 10 metrics.
MATH_ALARM_METRICS = 10
QUIET = {"treat_missing_data_override": cloudwatch.TreatMissingData.NOT_BREACHING}
# Slack over a queue's longest legitimate wait before its oldest message is "stuck".
QUEUE_AGE_MARGIN_S = 15 * 60
# A dead letter older than this is half-way to SQS's 14-day retention: redrive or drop it.
DEAD_LETTER_AGE_S = 7 * 24 * 3600


def oldest_message_limit_s(stage: Stage, queue: topology.Queue) -> int:
    """How old a queue's oldest message may be before it is stuck: the waits its retries
    legitimately take (a visibility timeout per receive, or the retry schedule of a consumer
    that reschedules its own messages: webhook delivery), plus a margin."""
    visibility = stage.visibility_timeout_s(queue)
    reschedules = any(
        source.queue == queue.name and queue.name in topology.FUNCTIONS[source.consumer].queues
        for source in topology.QUEUE_SOURCES
    )
    waits = [visibility] * queue.max_receives
    if reschedules:
        delays = stage.webhook_retry_delays_s[: queue.max_receives - 1]
        waits = [max(visibility, delay) for delay in delays] + [visibility]
    return sum(waits) + QUEUE_AGE_MARGIN_S


class Monitoring(Concern):
    """Exposes `facade` (its `created_alarms()`), `dashboard`, `error_filters` (by function
    name) and `queries` (by name); needs the functions, their log groups, the API and its
    access logs, the tables, the queues and their dead-letter queues, the migrations' state
    machine, the web ACL and the ops topic."""

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
        tables: Mapping[str, dynamodb.Table],
        queues: Mapping[str, sqs.Queue],
        dead_letter_queues: Mapping[str, sqs.Queue],
        state_machine: sfn.IStateMachine,
        web_acl: wafv2.CfnWebACL,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.dashboard_name = f"catalog-{stage.name}-operations"
        action = mc.SnsAlarmActionStrategy(on_alarm_topic=topic, on_ok_topic=topic)
        self.facade = mc.MonitoringFacade(
            self,
            "Ops",
            alarm_factory_defaults=mc.AlarmFactoryDefaults(
                alarm_name_prefix=f"catalog-{stage.name}",
                actions_enabled=True,
                action=action,
                # One breaching period raises an alarm (an error, a dead letter); the
                # sustained ones say otherwise (SUSTAINED).
                evaluation_periods=1,
                datapoints_to_alarm=1,
            ),
            metric_factory_defaults=mc.MetricFactoryDefaults(period=FIVE_MINUTES),
            # One dashboard per stage; the library's summary and alarm dashboards would
            # repeat it.
            dashboard_factory=mc.DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=self.dashboard_name,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        self._monitor_api(api)
        self._monitor_functions(functions, log_groups)
        self._monitor_tables(tables)
        self._monitor_queues(queues, dead_letter_queues)
        self._monitor_business()
        self.facade.add_large_header("Deploy and edge")
        self.facade.monitor_step_function(
            state_machine=state_machine, human_readable_name="Data migrations (deploys)"
        )
        self.facade.monitor_web_application_firewall_acl_v2(
            acl=web_acl, region=Stack.of(self).region, human_readable_name="WAF web ACL"
        )
        dashboard = self.facade.created_dashboard()
        assert dashboard is not None
        self.dashboard = dashboard
        self.error_filters = {
            name: self._build_error_filter(name, group) for name, group in log_groups.items()
        }
        self.queries = self._build_queries(list(log_groups.values()), access_logs)

    def _describe(self, what: str) -> str:
        return f"catalog {self.stage.name}: {what}"

    def _any(self, what: str) -> dict[str, mc.ErrorCountThreshold]:
        """An alarm raised by one occurrence in a period (an error, a throttle)."""
        return {
            "Critical": mc.ErrorCountThreshold(
                max_error_count=0, alarm_description_override=self._describe(what)
            )
        }

    def _monitor_api(self, api: apigateway.RestApi) -> None:
        limit = self.stage.api_p99_alarm_ms
        self.facade.add_large_header("API")
        self.facade.monitor_api_gateway(
            api=api,
            api_stage=api.deployment_stage.stage_name,
            alarm_friendly_name="api",
            human_readable_name="REST API",
            # The library's fault rate is the Average of 5XXError, which API Gateway
            # counts 0 or 1 per request: the share of requests answered 5XX.
            add5_xx_fault_rate_alarm={
                "Critical": mc.ErrorRateThreshold(
                    max_error_rate=self.stage.api_5xx_alarm_rate,
                    alarm_description_override=self._describe(
                        f"API answered 5XX to over {self.stage.api_5xx_alarm_rate:.0%} of "
                        "requests in 5 minutes"
                    ),
                )
            },
            add_latency_p99_alarm={
                "Critical": mc.LatencyThreshold(
                    max_latency=Duration.millis(limit),
                    alarm_description_override=self._describe(
                        f"API p99 latency over {limit} ms for 15 minutes"
                    ),
                    **SUSTAINED,
                )
            },
        )

    def _monitor_functions(
        self, functions: Mapping[str, lambda_.Function], log_groups: Mapping[str, logs.LogGroup]
    ) -> None:
        self.facade.add_large_header("Functions")
        consumers = {stream.consumer for stream in topology.STREAMS}
        for name, function in functions.items():
            lag = (
                {
                    "Critical": mc.MaxAgeThreshold(
                        max_age_in_millis=5 * 60 * 1000,
                        alarm_description_override=self._describe(
                            f"{name} over 5 minutes behind its stream for 15 minutes"
                        ),
                        **SUSTAINED,
                        **QUIET,
                    )
                }
                if name in consumers
                else None
            )
            self.facade.monitor_lambda_function(
                lambda_function=function,
                alarm_friendly_name=name,
                human_readable_name=f"{name} function",
                add_fault_count_alarm=self._any(f"{name} function errors"),
                add_throttles_count_alarm=self._any(f"{name} function throttled"),
                # The slowest invocations near the timeout: the next ones time out.
                add_latency_p99_alarm={
                    "Critical": mc.LatencyTimeoutPercentageThreshold(
                        max_latency_percentage_of_timeout=80,
                        alarm_description_override=self._describe(
                            f"{name} p99 duration over 80% of its timeout for 15 minutes"
                        ),
                        **SUSTAINED,
                    )
                },
                add_max_iterator_age_alarm=lag,
            )
        self.facade.add_widget(self._init_duration_widget(log_groups))

    def _init_duration_widget(self, log_groups: Mapping[str, logs.LogGroup]) -> cloudwatch.IWidget:
        """Cold starts and their init duration per function, from the REPORT lines Lambda
        writes: Logs Insights parses them into @initDuration whatever follows on the line
        (the X-Ray trace id), where a metric filter's space-delimited pattern breaks, and it
        needs no Lambda Insights extension (a layer in every function, adding to the init
        it measures, and billed per function)."""
        return cloudwatch.LogQueryWidget(
            title="Init duration (cold starts) per function",
            log_group_names=[group.log_group_name for group in log_groups.values()],
            query_lines=[
                "filter @type = 'REPORT' and ispresent(@initDuration)",
                "stats count(*) as cold_starts, avg(@initDuration) as avg_ms, "
                "pct(@initDuration, 99) as p99_ms, max(@initDuration) as max_ms by @log",
                "sort p99_ms desc",
            ],
            view=cloudwatch.LogQueryVisualizationType.TABLE,
            width=24,
            height=6,
        )

    def _monitor_tables(self, tables: Mapping[str, dynamodb.Table]) -> None:
        """Graphs per table and per index (the library's), and two alarms per table, on
        throttled reads and on throttled writes of the table or any of its indexes.

        Hand-written alarms: the library alarms per table and per index, which took the
        prod stack past CloudFormation's 500 resources (32 alarms for 8 subjects); one
        metric-math alarm per table and kind says the same (which index: on its graph)."""
        self.facade.add_large_header("DynamoDB")
        self.throttle_alarms: dict[str, cloudwatch.Alarm] = {}
        for name, table in tables.items():
            self.facade.monitor_dynamo_table(
                table=table,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                alarm_friendly_name=f"table-{name}",
                human_readable_name=f"{name} table",
            )
            indexes = [index.name for index in topology.TABLES[name].indexes]
            for index in indexes:
                self.facade.monitor_dynamo_table_global_secondary_index(
                    table=table,
                    global_secondary_index_name=index,
                    alarm_friendly_name=f"table-{name}-{index}",
                    human_readable_name=f"{name} table, index {index}",
                )
            for kind, metric in (
                ("reads", "ReadThrottleEvents"),
                ("writes", "WriteThrottleEvents"),
            ):
                alarm = self._throttle_alarm(name, table, indexes, kind, metric)
                self.throttle_alarms[f"{name} {kind}"] = alarm

    def _throttle_alarm(
        self, name: str, table: dynamodb.Table, indexes: list[str], kind: str, metric: str
    ) -> cloudwatch.Alarm:
        # On-demand tables throttle past their partitions' limits (3,000 reads and 1,000
        # writes per second per partition key): any throttle is a hot key to look at.
        subjects: list[dict[str, str]] = [{"TableName": table.table_name}] + [
            {"TableName": table.table_name, "GlobalSecondaryIndexName": index} for index in indexes
        ]
        if len(subjects) > MATH_ALARM_METRICS:
            raise ValueError(
                f"{name}: {len(subjects)} metrics; an alarm takes {MATH_ALARM_METRICS}"
            )
        metrics = {
            f"m{n}": cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name=metric,
                dimensions_map=dimensions,
                statistic="Sum",
                period=FIVE_MINUTES,
            )
            for n, dimensions in enumerate(subjects)
        }
        what = f"{name} table or its indexes: {kind} throttled"
        return cloudwatch.Alarm(
            self,
            f"{construct_name(name)}{construct_name(kind)}Throttled",
            alarm_name=f"catalog-{self.stage.name}-table-{name}-{kind}-throttled",
            alarm_description=self._describe(what),
            metric=cloudwatch.MathExpression(
                expression=f"SUM([{','.join(metrics)}])",
                using_metrics=metrics,
                label=f"{name}: throttled {kind}",
                period=FIVE_MINUTES,
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _monitor_queues(
        self, queues: Mapping[str, sqs.Queue], dead_letter_queues: Mapping[str, sqs.Queue]
    ) -> None:
        self.facade.add_large_header("Queues and dead-letter queues")
        consumed = {source.queue for source in topology.QUEUE_SOURCES}
        for name, spec in topology.QUEUES.items():
            if name in consumed:
                limit = oldest_message_limit_s(self.stage, spec)
                age_what = f"oldest message of {name} over {limit} s old (stuck)"
                depth = None
            else:
                # Nobody consumes it (a stream's on-failure destination): any message is one.
                limit = DEAD_LETTER_AGE_S
                age_what = f"a message of {name} unhandled for 7 days"
                depth = self._depth(f"unconsumed messages in {name}")
            self.facade.monitor_sqs_queue_with_dlq(
                queue=queues[name],
                dead_letter_queue=dead_letter_queues[name],
                alarm_friendly_name=f"queue-{name}",
                human_readable_name=f"{name} queue",
                add_queue_max_size_alarm=depth,
                add_queue_max_message_age_alarm=self._age(limit, age_what),
                # Any dead letter is an event that did not get through.
                add_dead_letter_queue_max_size_alarm=self._depth(
                    f"messages in the dead-letter queue of {name}"
                ),
                add_dead_letter_queue_max_message_age_alarm=self._age(
                    DEAD_LETTER_AGE_S, f"a dead letter of {name} 7 days old (14-day retention)"
                ),
            )

    def _depth(self, what: str) -> dict[str, mc.MaxMessageCountThreshold]:
        return {
            "Critical": mc.MaxMessageCountThreshold(
                max_message_count=0,
                alarm_description_override=self._describe(what),
                # A minute, not five: a dead letter is news at once (SQS reports each minute).
                period=Duration.minutes(1),
                **QUIET,
            )
        }

    def _age(self, limit_s: int, what: str) -> dict[str, mc.MaxMessageAgeThreshold]:
        return {
            "Critical": mc.MaxMessageAgeThreshold(
                max_age_in_seconds=limit_s, alarm_description_override=self._describe(what), **QUIET
            )
        }

    def _monitor_business(self) -> None:
        """What the functions count (catalog.core.business_metrics), one graph per section:
        event delivery (webhooks) and the catalog's business."""
        self.facade.add_large_header("Event delivery and business")
        self.facade.monitor_custom(
            human_readable_name="Business and event delivery",
            alarm_friendly_name="business",
            metric_groups=[
                mc.CustomMetricGroup(
                    title=title,
                    metrics=[
                        cloudwatch.Metric(
                            namespace=topology.METRICS_NAMESPACE,
                            metric_name=name,
                            dimensions_map={"service": topology.SERVICE_NAME},
                            statistic="Sum",
                            period=FIVE_MINUTES,
                            label=name,
                        )
                        for name in names
                    ],
                )
                for title, names in business_metrics.SECTIONS.items()
            ],
        )

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
