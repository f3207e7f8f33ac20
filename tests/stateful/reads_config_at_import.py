"""A broken handler for tests/stateful/test_configuration.py: it reads its table's name when
imported, so a missing ``MESSAGES_TABLE`` is a traceback at cold start, where the contract
asks for a SYSTEM_ERROR answer and a log line."""

import os

from reference.handler import lambda_handler

TABLE = os.environ["MESSAGES_TABLE"]


def handler(event, context):
    return lambda_handler(event, context)
