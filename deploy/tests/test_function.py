"""The handler function and its role: the reference's entry point, and nothing it does not use."""

from __future__ import annotations

API_GATEWAY_INTEGRATION_LIMIT_SECONDS = 29


def _function(synthesized):
    return synthesized.resources[synthesized.logical_id(synthesized.stack.function)]["Properties"]


def _role(synthesized):
    return synthesized.resources[synthesized.logical_id(synthesized.stack.role)]


def test_function_runs_the_reference_handler(synthesized):
    """The entry point is ``reference.handler.lambda_handler`` on a Python 3.11+ runtime."""
    function = _function(synthesized)
    assert function["Handler"] == "reference.handler.lambda_handler"
    assert function["Runtime"] in {"python3.11", "python3.12"}


def test_function_answers_before_api_gateway_gives_up(synthesized):
    """The timeout is under API Gateway's 29 s, so a slow call ends in the handler's answer."""
    function = _function(synthesized)
    assert function["Timeout"] == 20
    assert function["Timeout"] < API_GATEWAY_INTEGRATION_LIMIT_SECONDS
    assert 128 <= function["MemorySize"] <= 512


def test_function_is_configured_as_the_contract_says(synthesized):
    """The environment names this stack's table and queue, and the 7-day record TTL."""
    stack = synthesized.stack
    expected = {
        "MESSAGES_TABLE": {"Ref": synthesized.logical_id(stack.table)},
        "MESSAGES_QUEUE_URL": {"Ref": synthesized.logical_id(stack.queue)},
        "MESSAGE_TTL_SECONDS": "604800",
    }
    assert _function(synthesized)["Environment"]["Variables"] == expected


def test_function_logs_to_its_own_group_with_retention(synthesized):
    """The function writes to a log group of this stack, which keeps logs for 30 days."""
    log_group_id = synthesized.logical_id(synthesized.stack.function_log_group)
    assert _function(synthesized)["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] == 30


def test_function_role_allows_exactly_the_intake_calls(synthesized):
    """The role allows the four calls of the intake on its own table and queue, and its logs.

    Nothing else: no Scan, Query, Delete or batch calls, no other queue, no wildcard.
    (Actions appear sorted: cdk.json turns on @aws-cdk/aws-iam:minimizePolicies.)
    """
    stack = synthesized.stack
    expected = [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": [synthesized.logical_id(stack.function_log_group), "Arn"]},
        },
        {
            "Sid": "StoreAndReadRecords",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": {"Fn::GetAtt": [synthesized.logical_id(stack.table), "Arn"]},
        },
        {
            "Sid": "SendToIntakeQueue",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [synthesized.logical_id(stack.queue), "Arn"]},
        },
    ]
    (policy,) = _role(synthesized)["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == expected


def test_function_role_has_no_other_policies(synthesized):
    """No managed policy and no separately attached policy widens the function's role."""
    role = _role(synthesized)
    role_id = synthesized.logical_id(synthesized.stack.role)
    assert "ManagedPolicyArns" not in role["Properties"]
    attached = [
        policy_id
        for policy_id, policy in synthesized.of_type("AWS::IAM::Policy").items()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
    ]
    assert attached == []
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_no_identity_policy_allows_wildcards(synthesized):
    """No Allow statement this stack writes has a ``*`` in an action or a literal resource.

    The one managed policy (API Gateway's account logging role) is acknowledged separately.
    """
    documents = [
        inline["PolicyDocument"]
        for role in synthesized.of_type("AWS::IAM::Role").values()
        for inline in role["Properties"].get("Policies", [])
    ]
    documents += [
        policy["Properties"]["PolicyDocument"]
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
    ]
    assert documents, "the stack has no identity policies to check"
    for document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            assert [action for action in actions if "*" in action] == []
            assert [r for r in resources if isinstance(r, str) and "*" in r] == []


def test_only_api_gateway_may_invoke_the_function_on_its_two_routes(synthesized):
    """Two invoke permissions, for API Gateway, each scoped to one method of this API."""
    function_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.function), "Arn"]}
    api_id = synthesized.logical_id(synthesized.stack.api)
    permissions = list(synthesized.of_type("AWS::Lambda::Permission").values())
    assert len(permissions) == 2
    source_suffixes = set()
    for permission in permissions:
        properties = permission["Properties"]
        assert properties["Action"] == "lambda:InvokeFunction"
        assert properties["Principal"] == "apigateway.amazonaws.com"
        assert properties["FunctionName"] == function_arn
        source_parts = properties["SourceArn"]["Fn::Join"][1]
        assert {"Ref": api_id} in source_parts
        source_suffixes.add(source_parts[-1])
    assert source_suffixes == {"/POST/messages", "/GET/messages/*"}
