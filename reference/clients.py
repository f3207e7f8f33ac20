"""The one place that makes boto3 clients: lazily, once per process, with explicit retries.

Never at import time: a client made before moto (or before the Lambda runtime's credentials)
would talk to the wrong place. Retry mode is explicit (``standard``: 3 attempts with jittered
backoff) and timeouts are short, so three calls with retries stay well inside API Gateway's
29 s integration limit in the common case; a Lambda timeout beyond that leaves a PENDING
record that a retry resumes.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_sqs import SQSClient

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=1,
    read_timeout=2,
)


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@functools.cache
def dynamodb() -> DynamoDBClient:
    return _session().client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def sqs() -> SQSClient:
    return _session().client("sqs", config=CLIENT_CONFIG)


def forget() -> None:
    """Drop the cached clients (tests that change region or endpoint between cases)."""
    for cached in (dynamodb, sqs, _session):
        cached.cache_clear()
