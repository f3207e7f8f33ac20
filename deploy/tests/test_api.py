"""The REST API: two routes to the handler, IAM-authorized, throttled and logged."""

from __future__ import annotations

import json


def _methods(synthesized):
    return {
        m["Properties"]["HttpMethod"]: m["Properties"]
        for m in synthesized.of_type("AWS::ApiGateway::Method").values()
    }


def test_api_has_exactly_the_two_routes(synthesized):
    """``POST /messages`` and ``GET /messages/{messageId}``, and no other resource or method."""
    api_id = synthesized.logical_id(synthesized.stack.api)
    resources = synthesized.of_type("AWS::ApiGateway::Resource")
    paths = {}
    for resource_id, resource in resources.items():
        parent = resource["Properties"]["ParentId"]
        paths[resource_id] = (parent, resource["Properties"]["PathPart"])
    (messages_id,) = [rid for rid, (_, part) in paths.items() if part == "messages"]
    assert paths[messages_id][0] == {"Fn::GetAtt": [api_id, "RootResourceId"]}
    (item_id,) = [rid for rid, (_, part) in paths.items() if part == "{messageId}"]
    assert paths[item_id][0] == {"Ref": messages_id}
    assert len(paths) == 2

    methods = _methods(synthesized)
    assert set(methods) == {"POST", "GET"}
    assert methods["POST"]["ResourceId"] == {"Ref": messages_id}
    assert methods["GET"]["ResourceId"] == {"Ref": item_id}


def test_routes_are_lambda_proxy_integrations_of_the_handler(synthesized):
    """Both methods hand the whole request to the handler (payload format 1.0 proxy events)."""
    function_id = synthesized.logical_id(synthesized.stack.function)
    for method in _methods(synthesized).values():
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        assert {"Fn::GetAtt": [function_id, "Arn"]} in integration["Uri"]["Fn::Join"][1]


def test_routes_require_iam_authorization(synthesized):
    """Every method needs a SigV4-signed request from a principal allowed to invoke it."""
    assert {m["AuthorizationType"] for m in _methods(synthesized).values()} == {"AWS_IAM"}


def test_message_id_path_parameter_is_validated(synthesized):
    """``GET`` declares ``messageId`` as a required path parameter and a validator checks it.

    The body of ``POST`` is deliberately not validated by API Gateway: the handler answers
    invalid bodies with the contract's VALIDATION_ERROR.
    """
    get = _methods(synthesized)["GET"]
    assert get["RequestParameters"] == {"method.request.path.messageId": True}
    (validator_id, validator) = next(
        iter(synthesized.of_type("AWS::ApiGateway::RequestValidator").items())
    )
    assert get["RequestValidatorId"] == {"Ref": validator_id}
    assert validator["Properties"]["ValidateRequestParameters"] is True
    assert "RequestValidatorId" not in _methods(synthesized)["POST"]


def test_endpoint_is_regional(synthesized):
    """The API is a regional endpoint (no CloudFront distribution in front)."""
    api = synthesized.resources[synthesized.logical_id(synthesized.stack.api)]["Properties"]
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_stage_throttles_every_method(synthesized):
    """The stage limits every method to 50 requests per second with bursts of 100."""
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (50, 100)


def test_stage_logs_errors_but_never_request_bodies(synthesized):
    """Execution logging is on at ERROR level, and full request/response tracing is off."""
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False


def test_stage_writes_json_access_logs_to_a_log_group_with_retention(synthesized):
    """Each request becomes one JSON access-log line in a log group kept for 30 days."""
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    access = stage["Properties"]["AccessLogSetting"]
    # The log group's ARN without the trailing ":*" (cdk.json's
    # @aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard), built from its name.
    destination = access["DestinationArn"]["Fn::Join"][1]
    assert ":log-group:" in destination
    (log_group_id,) = [
        group_id
        for group_id in synthesized.of_type("AWS::Logs::LogGroup")
        if destination[-1] == {"Ref": group_id}
    ]
    assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] == 30
    fields = json.loads(access["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    assert {"httpMethod", "resourcePath", "integrationStatus", "sourceIp"} <= set(fields)


def test_api_gateway_account_logging_role_is_set_before_the_stage(synthesized):
    """The account's API Gateway logging role exists before the stage that logs through it."""
    (account_id, account) = next(iter(synthesized.of_type("AWS::ApiGateway::Account").items()))
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    assert account_id in stage["DependsOn"]
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[role_id]["DeletionPolicy"] == "Retain"
    assert account["DeletionPolicy"] == "Retain"
