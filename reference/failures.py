"""Domain errors of the store and the queue, so the service never sees a botocore exception.

``retryable`` decides between 503 (throttled, unavailable, timed out: retry later) and 500.
``aws_code`` is for the log only.
"""

from __future__ import annotations

import attrs


@attrs.define
class DependencyError(Exception):
    operation: str
    aws_code: str
    retryable: bool

    def __str__(self) -> str:
        kind = "retryable" if self.retryable else "non-retryable"
        return f"{self.operation} failed ({kind}): {self.aws_code}"


class StoreError(DependencyError):
    """DynamoDB did not answer as needed, after the SDK's retries."""


class QueueError(DependencyError):
    """SQS did not take the message, after the SDK's retries."""
