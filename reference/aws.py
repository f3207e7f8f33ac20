"""Turns botocore exceptions into the domain's ``DependencyError``s, at the adapter edge."""

from __future__ import annotations

from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from reference.failures import DependencyError

E = TypeVar("E", bound=DependencyError)

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "Throttling",
        "KmsThrottled",
        "TooManyRequestsException",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def is_retryable(exc: Exception) -> bool:
    """Throttling, 5xx, timeouts and connection errors are worth a client's later retry."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in THROTTLING_CODES or status >= 500
    return isinstance(exc, ConnectionError | HTTPClientError)


def translate(exc: ClientError | BotoCoreError, operation: str, kind: type[E]) -> E:
    code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
    return kind(operation, code, is_retryable(exc))
