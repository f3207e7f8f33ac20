"""The harness's edge when DynamoDB and SQS answer over HTTP (``model.harness.backends``).

Everything here is what any client could do, so the same code would serve a real account:

- every request any client in the process sends goes through botocore's ``Endpoint._send``,
  which is wrapped: a request to any host but the backend's is refused; the injector decides,
  per attempt, whether it reaches the service (a fault answered before it leaves: not applied)
  or whether the answer is lost after the service applied it;
- the table is read by a consistent Scan;
- the queue is never read (a real queue cannot be read exactly): every message a service
  accepted, at the client, is recorded instead, with its attributes, whoever sent it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from model.harness.backends import Endpoints, RealAWSRefused
from model.harness.faults import Injector, WireResponse, operation_of


class _Body:
    """The raw body of a made-up response, as botocore reads it."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def aws_response(request: Any, wire: WireResponse) -> Any:
    """An injected error answer as botocore's own HTTP layer would hand it over."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    status, headers, body = wire
    http_headers = HTTPHeaders()
    for name, value in headers.items():
        http_headers[name] = value
    return AWSResponse(str(request.url), status, http_headers, _Body(body.encode("utf-8")))


@attrs.define
class Recorder:
    """Every message a queue accepted, in order, as (body, string attributes)."""

    sent: list[tuple[str, dict[str, str]]] = attrs.Factory(list)
    requests: int = 0
    """Every HTTP attempt that reached a service (what a real account bills)."""

    def accepted(self, request: Any, response: Any) -> None:
        operation = operation_of(request)
        if operation not in ("sqs.SendMessage", "sqs.SendMessageBatch"):
            return
        if not 200 <= int(getattr(response, "status_code", 0)) < 300:
            return
        asked = json.loads(_text(request.body) or "{}")
        if operation == "sqs.SendMessage":
            self.sent.append((asked.get("MessageBody", ""), _attributes(asked)))
            return
        answered = json.loads(_text(response.content) or "{}")
        ok = {entry.get("Id") for entry in answered.get("Successful", [])}
        for entry in asked.get("Entries", []):
            if entry.get("Id") in ok:
                self.sent.append((entry.get("MessageBody", ""), _attributes(entry)))


def _text(data: Any) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8")
    if hasattr(data, "read"):  # a stream: read it and put it back for the real send
        position = data.tell()
        text = data.read()
        data.seek(position)
        return _text(text)
    return str(data)


def _attributes(asked: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(value.get("StringValue", ""))
        for name, value in (asked.get("MessageAttributes") or {}).items()
    }


def wrap_send(
    injector: Injector, recorder: Recorder, allowed: Callable[[], Endpoints | None]
) -> None:
    """Route every botocore send through the guard, the injector and the recorder."""
    import importlib

    endpoint: Any = importlib.import_module("botocore.endpoint")
    real_send = endpoint.Endpoint._send

    def send(self: Any, request: Any) -> Any:
        endpoints = allowed()
        host = str(request.url).split("://", 1)[-1].split("/", 1)[0]
        if endpoints is None or host not in endpoints.hosts:
            hosts = sorted(endpoints.hosts) if endpoints else ["none yet"]
            raise RealAWSRefused(
                f"refused to send {request.method} {request.url}: inside queuecheck's sandbox "
                f"only the backend's servers may answer ({', '.join(hosts)})"
            )

        def proceed(sent: Any) -> Any:
            recorder.requests += 1
            response = real_send(self, sent)
            recorder.accepted(sent, response)
            return response

        result = injector.intercept(request, proceed)
        return aws_response(request, result) if isinstance(result, tuple) else result

    endpoint.Endpoint._send = send


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """A typed DynamoDB item as plain Python values (numbers as int where whole)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: _plain(deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_plain(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3's Binary
        return bytes(value.value)
    return value


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of ``table``, typed, by consistent Scan (all pages)."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
