"""The error answers of the API: a code, its HTTP status and a fixed message, nothing else.

Fixed messages are the point: an error body must never carry exception text, AWS error
codes, table names, queue URLs or ARNs. Those go to the log.
"""

from __future__ import annotations

import attrs

RETRY_AFTER_SECONDS = 1

FIXED_MESSAGES = {
    "VALIDATION_ERROR": "The request is invalid; see details.",
    "NOT_FOUND": "No such resource.",
    "METHOD_NOT_ALLOWED": "This method is not allowed on this resource.",
    "IDEMPOTENCY_CONFLICT": "This message id was already used for different content.",
    "PAYLOAD_TOO_LARGE": "The request body is larger than 256 KiB.",
    "UNSUPPORTED_MEDIA_TYPE": "The request body must be JSON (application/json, UTF-8).",
    "SYSTEM_ERROR": "The request could not be completed; it is safe to retry.",
}


@attrs.frozen
class Problem:
    """One VALIDATION_ERROR detail: which field, and what is wrong with it."""

    field: str
    problem: str


@attrs.frozen
class ApiError(Exception):
    """An answer other than success; raised anywhere in the request, rendered by the handler."""

    code: str
    http_status: int
    details: tuple[Problem, ...] = ()
    allow: str | None = None

    @property
    def message(self) -> str:
        return FIXED_MESSAGES[self.code]

    @property
    def retry_after(self) -> int | None:
        return RETRY_AFTER_SECONDS if self.http_status == 503 else None


def validation_error(*problems: Problem) -> ApiError:
    return ApiError("VALIDATION_ERROR", 400, tuple(problems))


def not_found() -> ApiError:
    return ApiError("NOT_FOUND", 404)


def method_not_allowed(allow: str) -> ApiError:
    return ApiError("METHOD_NOT_ALLOWED", 405, allow=allow)


def idempotency_conflict() -> ApiError:
    return ApiError("IDEMPOTENCY_CONFLICT", 409)


def payload_too_large() -> ApiError:
    return ApiError("PAYLOAD_TOO_LARGE", 413)


def unsupported_media_type() -> ApiError:
    return ApiError("UNSUPPORTED_MEDIA_TYPE", 415)


def unavailable() -> ApiError:
    """Throttled, unavailable or timed out after retries: the client should retry later."""
    return ApiError("SYSTEM_ERROR", 503)


def internal() -> ApiError:
    """Anything unexpected: misconfiguration, permissions, a bug."""
    return ApiError("SYSTEM_ERROR", 500)
