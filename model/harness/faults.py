"""Fault and race injection into individual AWS calls, below any client the code made.

The one place that sees every HTTP attempt is moto's own request processing (DESIGN.md
section 3): wrapping it lets a fault decide, per attempt, whether moto applies the request.
Not calling moto means "not applied"; calling it and then raising a read timeout means
"applied, response lost". botocore's retries run for real on top, so a single throttle is
absorbed exactly as it would be in AWS.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import attrs
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from model.core.plans import Fault, FaultKind, Race

WireResponse = tuple[int, dict[str, str], str]
Proceed = Callable[[Any], WireResponse | None]

_SERVICES = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs"}
_ATTEMPT = re.compile(r"attempt=(\d+)(?:;\s*max=(\d+))?")


class InvocationCrashed(BaseException):
    """The invocation died at this call, like a Lambda timeout. A BaseException on purpose:
    handler code that catches ``Exception`` must not be able to answer after its own death."""


def _dynamodb_error(
    status: int, code: str, prefix: str = "com.amazonaws.dynamodb.v20120810"
) -> WireResponse:
    body = json.dumps({"__type": f"{prefix}#{code}", "message": f"injected {code}"})
    return status, {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}, body


def _sqs_error(status: int, code: str, fault: str) -> WireResponse:
    # SQS speaks JSON but stays query-compatible: the x-amzn-query-error header carries the
    # code that botocore reports as Error.Code and bases retry decisions on.
    body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": f"injected {code}"})
    headers = {
        "x-amzn-query-error": f"{code};{fault}",
        "Content-Type": "application/x-amz-json-1.0",
    }
    return status, headers, body


ERROR_RESPONSES: dict[tuple[str, FaultKind], WireResponse] = {
    ("dynamodb", FaultKind.THROTTLE): _dynamodb_error(
        400, "ProvisionedThroughputExceededException"
    ),
    ("dynamodb", FaultKind.SERVER_ERROR): _dynamodb_error(500, "InternalServerError"),
    ("dynamodb", FaultKind.ACCESS_DENIED): _dynamodb_error(
        400, "AccessDeniedException", "com.amazon.coral.service"
    ),
    ("sqs", FaultKind.THROTTLE): _sqs_error(403, "RequestThrottled", "Sender"),
    ("sqs", FaultKind.SERVER_ERROR): _sqs_error(500, "InternalError", "Receiver"),
    ("sqs", FaultKind.ACCESS_DENIED): _sqs_error(403, "AccessDenied", "Sender"),
}


GENERIC_ERRORS: dict[FaultKind, WireResponse] = {
    FaultKind.THROTTLE: _dynamodb_error(400, "ThrottlingException", "com.amazonaws"),
    FaultKind.SERVER_ERROR: _dynamodb_error(500, "InternalFailure", "com.amazonaws"),
    FaultKind.ACCESS_DENIED: _dynamodb_error(403, "AccessDeniedException", "com.amazonaws"),
}


def operation_of(request: Any) -> str | None:
    """``service.Operation`` of a botocore request, from its ``X-Amz-Target`` header."""
    target = request.headers.get("X-Amz-Target")
    if isinstance(target, bytes):
        target = target.decode()
    if not target or "." not in target:
        return None
    prefix, _, name = target.partition(".")
    return f"{_SERVICES.get(prefix, prefix.lower())}.{name}"


def attempt_of(request: Any) -> int:
    header = request.headers.get("amz-sdk-request") or b""
    if isinstance(header, bytes):
        header = header.decode()
    match = _ATTEMPT.search(header)
    return int(match.group(1)) if match else 1


@attrs.frozen
class Attempt:
    """One HTTP attempt the injector saw, and what it did to it."""

    operation: str
    attempt: int
    outcome: str
    """"passed"; a FaultKind value (injected); "race:<kind>" (then the attempt itself); or
    "error:<Code>": nothing was injected, and the service itself answered that error."""

    @property
    def injected(self) -> bool:
        return self.outcome != "passed" and not self.outcome.startswith("error:")


def service_error(response: Any) -> str | None:
    """The error code a service answered with, if it answered an error: from moto's
    ``(status, headers, body)`` or botocore's ``AWSResponse``."""
    if isinstance(response, tuple):
        status, headers, body = response
    else:
        status = getattr(response, "status_code", 200)
        headers, body = getattr(response, "headers", {}), getattr(response, "content", b"")
    if not isinstance(status, int) or status < 400:
        return None
    lowered = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    code = (
        lowered.get("x-amzn-query-error", "").partition(";")[0]
        or lowered.get("x-amzn-errortype", "").partition(":")[0]
    )
    if not code:
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
            code = str(json.loads(text).get("__type", "")).rpartition("#")[2]
        except (ValueError, AttributeError):
            code = ""
    return code or f"HTTP {status}"


@attrs.define
class _Armed:
    operation: str
    after: int
    times: int | None
    seen: int = 0
    fired: int = 0

    def fires(self, operation: str) -> bool:
        if operation != self.operation:
            return False
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@attrs.define
class _ArmedFault(_Armed):
    kind: FaultKind = FaultKind.THROTTLE


@attrs.define
class _ArmedRace(_Armed):
    label: str = ""
    action: Callable[[], bool | None] = lambda: None


@attrs.define
class Injector:
    """Plans faults and races, applies them to attempts, and keeps the record of both."""

    faults: list[_ArmedFault] = attrs.Factory(list)
    races: list[_ArmedRace] = attrs.Factory(list)
    attempts: list[Attempt] = attrs.Factory(list)
    injected: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    paused: bool = False
    scheduler: Callable[[str], None] | None = None
    """Told of every injectable call before it goes out (an interleaving switches there)."""

    def plan(self, fault: Fault) -> None:
        self.faults.append(_ArmedFault(fault.operation, fault.after, fault.times, kind=fault.kind))

    def plan_race(self, race: Race, action: Callable[[], bool | None]) -> None:
        """Run ``action`` (uninjected) just before the chosen attempt reaches the service."""
        self.races.append(
            _ArmedRace(race.operation, race.after, 1, label=str(race.kind), action=action)
        )

    def clear(self) -> None:
        """Stop planned faults and races; the record of what happened stays."""
        self.faults.clear()
        self.races.clear()

    def reset(self) -> None:
        self.clear()
        self.attempts.clear()
        self.injected.clear()
        self.paused = False
        self.scheduler = None

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """Calls made inside (the harness's own reads, a race's actor) are never injected."""
        previous, self.paused = self.paused, True
        try:
            yield
        finally:
            self.paused = previous

    def active(self) -> bool:
        return any(
            armed.times is None or armed.fired < armed.times
            for armed in [*self.faults, *self.races]
        )

    def intercept(self, request: Any, proceed: Proceed) -> WireResponse | None:
        operation = operation_of(request)
        if self.paused or operation is None:
            return proceed(request)
        if self.scheduler is not None:
            self.scheduler(operation)
        attempt = attempt_of(request)
        for race in self.races:
            if race.fires(operation):
                with self.pause():
                    acted = race.action()
                if acted is not False:  # False: the actor found nothing to act on
                    self.injected[(operation, f"race:{race.label}")] += 1
                    self.attempts.append(Attempt(operation, attempt, f"race:{race.label}"))
        kind = next((fault.kind for fault in self.faults if fault.fires(operation)), None)
        self.attempts.append(Attempt(operation, attempt, str(kind) if kind else "passed"))
        if kind is None:
            response = proceed(request)
            error = service_error(response)
            if error is not None:  # a story shows what the service said, not "passed"
                self.attempts[-1] = Attempt(operation, attempt, f"error:{error}")
            return response
        self.injected[(operation, str(kind))] += 1
        return self._inject(kind, operation, request, proceed)

    @staticmethod
    def _inject(
        kind: FaultKind, operation: str, request: Any, proceed: Proceed
    ) -> WireResponse | None:
        url = str(request.url)
        if kind is FaultKind.CRASH:
            raise InvocationCrashed(f"invocation crashed at {operation}")
        if kind is FaultKind.TIMEOUT:
            raise ConnectTimeoutError(endpoint_url=url)
        if kind is FaultKind.CONNECTION_ERROR:
            raise EndpointConnectionError(endpoint_url=url)
        if kind is FaultKind.APPLIED_LOST:
            proceed(request)
            raise ReadTimeoutError(endpoint_url=url)
        service = operation.partition(".")[0]
        if (service, kind) in ERROR_RESPONSES:
            return ERROR_RESPONSES[(service, kind)]
        return GENERIC_ERRORS[kind]  # another service the handler calls: its JSON-protocol shape
