"""Broken handlers for tests/stateful/test_configuration.py: the reference, wrong in how it
takes its configuration. Each breaks one check of that file (and none of the state machine's,
which always runs a handler configured with the defaults)."""

import json
import os

from reference.handler import lambda_handler


def ttl_setting_ignored(event, context):
    """Writes the default ``ttl`` whatever ``MESSAGE_TTL_SECONDS`` says."""
    setting = os.environ.pop("MESSAGE_TTL_SECONDS", None)
    try:
        return lambda_handler(event, context)
    finally:
        if setting is not None:
            os.environ["MESSAGE_TTL_SECONDS"] = setting


def system_error_without_request_id(event, context):
    """Answers a missing setting's SYSTEM_ERROR without API Gateway's request id."""
    answer = lambda_handler(event, context)
    if answer["statusCode"] == 500:
        body = json.loads(answer["body"])
        body["error"].pop("requestId", None)
        answer["body"] = json.dumps(body)
    return answer


def zero_ttl_taken_as_unset(event, context):
    """Takes ``MESSAGE_TTL_SECONDS=0`` for "not set" (the default), where 0 is invalid."""
    if os.environ.get("MESSAGE_TTL_SECONDS") != "0":
        return lambda_handler(event, context)
    del os.environ["MESSAGE_TTL_SECONDS"]
    try:
        return lambda_handler(event, context)
    finally:
        os.environ["MESSAGE_TTL_SECONDS"] = "0"
