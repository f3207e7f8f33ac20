"""The reference intake as one CDK stack: API Gateway -> Lambda -> DynamoDB and SQS.

The shapes follow DESIGN.md section 1: a table keyed by ``messageId`` with TTL on ``ttl``, a
queue with a dead-letter queue, and a function that may call exactly the four operations
the handler makes (PutItem, UpdateItem, GetItem, SendMessage) on exactly those resources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import lambda_bundle
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

DEPLOY_DIR = Path(__file__).resolve().parent
REFERENCE_DIR = DEPLOY_DIR.parent / "reference"
STACK_NAME = "QueuecheckIntake"

HANDLER = "reference.handler.lambda_handler"
MESSAGE_TTL_SECONDS = 604_800
# API Gateway gives up on an integration after 29 s; the function must finish first so the
# caller gets the handler's answer (a 503 it can retry), not a gateway timeout.
FUNCTION_TIMEOUT = Duration.seconds(20)
FUNCTION_MEMORY_MB = 256
# A message leaves the queue for the dead-letter queue after this many failed receives.
MAX_RECEIVE_COUNT = 5
STAGE_NAME = "v1"
THROTTLE_RATE_PER_SECOND = 50
THROTTLE_BURST = 100
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class IntakeStack(cdk.Stack):
    """Table, queue and dead-letter queue, the handler function, the REST API and alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        reference_dir: Path = REFERENCE_DIR,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.table = self._table()
        self.dead_letter_queue, self.queue = self._queues()
        self.function_log_group = self._log_group("HandlerLogs")
        self.role = self._role()
        self.function = self._function(reference_dir)
        self.api = self._api()
        self.alarms = self._alarms()
        self._outputs()
        self._acknowledge_findings()

    def _table(self) -> dynamodb.Table:
        """Records outlive the stack (RETAIN): deleting a stack must never delete messages."""
        return dynamodb.Table(
            self,
            "Messages",
            partition_key=dynamodb.Attribute(name="messageId", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="ttl",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _queues(self) -> tuple[sqs.Queue, sqs.Queue]:
        """The intake queue and its dead-letter queue, both encrypted and TLS-only.

        The queue keeps messages as long as the table keeps records (the TTL), so a QUEUED
        record never points at a message that expired unread. The dead-letter queue keeps
        them for SQS's maximum, 14 days, longer than the source queue: a standard queue's
        message keeps its original enqueue time when it moves to the dead-letter queue.
        """
        dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        queue = sqs.Queue(
            self,
            "Intake",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.seconds(MESSAGE_TTL_SECONDS),
            # For the downstream consumer, which this stack does not deploy: tune to its timeout.
            visibility_timeout=Duration.minutes(2),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT
            ),
        )
        return dead_letters, queue

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        """Logs are operational data with a retention; they go when the stack goes."""
        return logs.LogGroup(
            self, construct_id, retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )

    def _role(self) -> iam.Role:
        """The function's role, written out statement by statement.

        No ``grant*`` helpers and no AWSLambdaBasicExecutionRole: ``grant_read_write_data``
        would add Scan, Query, BatchWriteItem and more, and the managed policy allows logging
        to every log group in the account. What the handler calls is all it may call.
        """
        statements = [
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.function_log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="StoreAndReadRecords",
                actions=["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"],
                resources=[self.table.table_arn],
            ),
            iam.PolicyStatement(
                sid="SendToIntakeQueue",
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
            ),
        ]
        return iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="queuecheck intake handler: the four calls of the intake and its own logs",
            inline_policies={"intake": iam.PolicyDocument(statements=statements)},
        )

    def _function(self, reference_dir: Path) -> lambda_.Function:
        """The reference handler, its code staged inside the cloud assembly being written."""
        bundle = lambda_bundle.stage(
            reference_dir, Path(cdk.Stage.of(self).outdir) / "lambda-src" / self.node.id
        )
        return lambda_.Function(
            self,
            "Handler",
            description="queuecheck reference intake (reference.handler)",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(bundle)),
            timeout=FUNCTION_TIMEOUT,
            memory_size=FUNCTION_MEMORY_MB,
            role=self.role,
            log_group=self.function_log_group,
            environment={
                "MESSAGES_TABLE": self.table.table_name,
                "MESSAGES_QUEUE_URL": self.queue.queue_url,
                "MESSAGE_TTL_SECONDS": str(MESSAGE_TTL_SECONDS),
            },
        )

    def _api(self) -> apigw.RestApi:
        """Two routes, IAM-authorized, throttled and logged at the stage."""
        access_logs = self._log_group("ApiAccessLogs")
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{self.stack_name}-api",
            description="queuecheck reference intake",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # API Gateway writes logs through one role per account and region; without it the
            # stage's access and execution logging fail at deploy time.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM
            ),
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=THROTTLE_RATE_PER_SECOND,
                throttling_burst_limit=THROTTLE_BURST,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(access_log_json()),
            ),
        )
        integration = apigw.LambdaIntegration(self.function, allow_test_invoke=False)
        messages = api.root.add_resource("messages")
        self.submit_method = messages.add_method("POST", integration)
        path_validator = api.add_request_validator(
            "PathParameters", validate_request_parameters=True, validate_request_body=False
        )
        self.read_method = messages.add_resource("{messageId}").add_method(
            "GET",
            integration,
            request_parameters={"method.request.path.messageId": True},
            request_validator=path_validator,
        )
        return api

    def _outputs(self) -> None:
        """What a caller and an operator need, under names a script can rely on."""
        # The RestApi adds an "Endpoint" output with a hashed name; ApiUrl replaces it.
        self.api.node.try_remove_child("Endpoint")
        outputs = {
            "ApiUrl": (self.api.url, "Base URL of the stage: POST {ApiUrl}messages"),
            "TableName": (self.table.table_name, "DynamoDB table of message records"),
            "QueueUrl": (self.queue.queue_url, "SQS queue the intake sends to"),
            "DeadLetterQueueUrl": (self.dead_letter_queue.queue_url, "Where failed messages go"),
        }
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)

    def _alarms(self) -> list[cloudwatch.Alarm]:
        """Alarms on what must never go unnoticed; wire their actions to your paging.

        A message in the dead-letter queue is one the consumer gave up on. Function errors
        are crashes and timeouts: a handler that follows the contract answers every request.
        The handler's own 503s are no function errors, so the API's 5XX count is watched too.
        """
        minute = Duration.minutes(1)
        dead_letters = self.dead_letter_queue
        watched = {
            "DeadLettersWaiting": dead_letters.metric_approximate_number_of_messages_visible(
                period=minute, statistic=cloudwatch.Stats.MAXIMUM
            ),
            "HandlerErrors": self.function.metric_errors(period=minute),
            "HandlerThrottles": self.function.metric_throttles(period=minute),
            "ApiServerErrors": self.api.metric_server_error(period=Duration.minutes(5)),
        }
        return [
            cloudwatch.Alarm(
                self,
                alarm_id,
                metric=metric,
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for alarm_id, metric in watched.items()
        ]

    def _acknowledge_findings(self) -> None:
        """cdk-nag findings this design accepts on purpose, each with the reason why."""
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Only the path parameter is validated at the edge. The JSON body is validated by "
            "the handler so that every invalid body gets the contract's VALIDATION_ERROR "
            "answer with field details, which an API Gateway model would replace with a "
            "generic 400.",
        )
        acknowledge(
            self.api.deployment_stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL in the reference stack: IAM authorization and stage throttling "
            "bound who can call and how fast. A web ACL is a paid, account-wide choice; "
            "associate one that follows your WAF policy.",
        )
        for method in (self.submit_method, self.read_method):
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "Callers authenticate with IAM (SigV4, AWS_IAM authorization): the intake "
                "serves AWS principals, not Cognito user-pool users.",
            )
        acknowledge(
            self.api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level role API Gateway logs through. "
            "AmazonAPIGatewayPushToCloudWatchLogs is the AWS-managed policy made for it; API "
            "Gateway names its execution log groups itself, so an inline policy could not be "
            "narrower.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.12 on purpose: the reference is type-checked for 3.11 and tested on "
            "3.11/3.12. The runtime moves together with that test matrix, not whenever a "
            "newer runtime appears.",
        )


def acknowledge(scope: Construct, rule: str, reason: str) -> None:
    """Accept one finding on one construct (and its children), with the reason on record."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def access_log_json() -> str:
    """One JSON object per request; ``requestId`` joins it to the handler's own log lines."""
    fields = {
        "requestId": apigw.AccessLogField.context_request_id(),
        "extendedRequestId": apigw.AccessLogField.context_extended_request_id(),
        "requestTime": apigw.AccessLogField.context_request_time(),
        "sourceIp": apigw.AccessLogField.context_identity_source_ip(),
        "caller": apigw.AccessLogField.context_identity_caller(),
        "userArn": apigw.AccessLogField.context_identity_user_arn(),
        "httpMethod": apigw.AccessLogField.context_http_method(),
        "resourcePath": apigw.AccessLogField.context_resource_path(),
        "protocol": apigw.AccessLogField.context_protocol(),
        "status": apigw.AccessLogField.context_status(),
        "responseLength": apigw.AccessLogField.context_response_length(),
        "responseLatency": apigw.AccessLogField.context_response_latency(),
        "integrationStatus": apigw.AccessLogField.context_integration_status(),
        "integrationLatency": apigw.AccessLogField.context_integration_latency(),
        "errorType": apigw.AccessLogField.context_error_response_type(),
    }
    return json.dumps(fields)


def build_app(
    context: dict[str, Any] | None = None, outdir: str | None = None
) -> tuple[cdk.App, IntakeStack]:
    """The app as ``cdk synth`` and the tests build it: one stack, checked by cdk-nag.

    cdk-nag (v3) is a CDK validation plugin: ``app.synth()`` fails on any finding, error or
    warning, that is neither fixed nor acknowledged with a reason, so nothing unreviewed
    reaches ``cdk deploy``. CDK's built-in template validation runs in the same step.
    """
    app = cdk.App(context=context, outdir=outdir)
    stack = IntakeStack(
        app,
        STACK_NAME,
        description="queuecheck reference intake: API Gateway, Lambda, DynamoDB, SQS",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stack
