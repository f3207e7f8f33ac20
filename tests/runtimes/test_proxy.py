"""The proxy with real AWS SDK v3 clients in a node handler, against moto's threaded server:
every fault kind the injector decides is carried out on the wire, and the SDK's own retries
absorb, repeat or surface it exactly as they would against AWS."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse

import attrs
import pytest
from runtimes.support import sdk_or_skip

from model.core.plans import Fault, FaultKind, Race, RaceKind, Switches
from model.harness.runtimes import node
from model.harness.runtimes.process import Answered, Crashed, Runner
from model.harness.scheduler import Scheduler


@attrs.define
class Calls:
    """The calls.mjs handler on one lane, with its own table and queue."""

    runner: Runner
    table: str
    queue: str

    def run(self, *calls: dict[str, str]) -> list[dict[str, object]]:
        reply = self.runner.invoke({"calls": list(calls)})
        assert isinstance(reply, Answered), reply
        return list(reply.value)


def _calls(runners, handlers, moto, proxy, lane: int = 0) -> Calls:
    sdk_or_skip()
    runner = Runner()
    runners.append(runner)
    table, queue = moto.table("id"), moto.queue()
    env = {
        **proxy.environment(lane),
        **node.ENVIRONMENT,
        "CALLS_TABLE": table,
        "CALLS_QUEUE_URL": proxy.queue_url(queue, lane),
    }
    runner.start(node.command("calls.mjs:handler", handlers), env, str(handlers))
    return Calls(runner, table, queue)


@pytest.fixture
def calls(runners, handlers, moto, proxy):
    made = _calls(runners, handlers, moto, proxy)
    proxy.on_crash = lambda lane, why: made.runner.kill(why)
    return made


PUT = {"op": "put", "id": "a"}
SEND = {"op": "send", "body": "hello"}


def _seen(injector, operation):
    return [(a.attempt, a.outcome) for a in injector.attempts if a.operation == operation]


def test_a_throttle_once_is_absorbed_by_the_sdks_retry(calls, injector):
    """The injector sees both attempts (attempt numbers from ``amz-sdk-request``); the handler
    sees success at attempt 2."""
    injector.plan(Fault("dynamodb.PutItem", FaultKind.THROTTLE, times=1))

    [put] = calls.run(PUT)

    assert (True, 2) == (put["ok"], put["attempts"])
    assert [(1, "throttle"), (2, "passed")] == _seen(injector, "dynamodb.PutItem")


@pytest.mark.parametrize(
    ("operation", "call", "error", "attempts"),
    [
        # SDK v3 makes 4 attempts at DynamoDB by default (its client config), 3 elsewhere.
        ("dynamodb.PutItem", PUT, "ProvisionedThroughputExceededException", 4),
        ("sqs.SendMessage", SEND, "RequestThrottled", 3),
    ],
)
def test_persistent_throttling_surfaces_after_the_sdks_attempts(
    calls, injector, operation, call, error, attempts
):
    injector.plan(Fault(operation, FaultKind.THROTTLE, times=None))

    [outcome] = calls.run(call)

    assert (False, error, attempts) == (outcome["ok"], outcome["error"], outcome["attempts"])
    assert [(n, "throttle") for n in range(1, attempts + 1)] == _seen(injector, operation)


@pytest.mark.parametrize(
    ("operation", "call", "error"),
    [
        ("dynamodb.PutItem", PUT, "AccessDeniedException"),
        ("sqs.SendMessage", SEND, "AccessDenied"),
    ],
)
def test_access_denied_is_not_retried(calls, injector, operation, call, error):
    injector.plan(Fault(operation, FaultKind.ACCESS_DENIED, times=1))

    [outcome] = calls.run(call)

    assert (False, error, 1) == (outcome["ok"], outcome["error"], outcome["attempts"])
    assert [(1, "access_denied")] == _seen(injector, operation)


@pytest.mark.parametrize("kind", [FaultKind.TIMEOUT, FaultKind.CONNECTION_ERROR])
def test_timeouts_and_connection_errors_are_retried_and_never_applied(
    calls, injector, moto, proxy, kind
):
    """The dropped attempt never reached the queue: the retry's message is the only one."""
    injector.plan(Fault("sqs.SendMessage", kind, times=1))

    [send] = calls.run(SEND)

    assert (True, 2) == (send["ok"], send["attempts"])
    assert ["hello"] == moto.bodies(calls.queue)
    assert [("hello", {})] == proxy.recorder.sent


def test_applied_then_lost_is_applied_upstream_and_sent_again_by_the_retry(
    calls, injector, moto, proxy
):
    """A SendMessage applied and then lost: the SDK saw a dropped connection and retried, so
    the caller sees success while the queue holds the message twice."""
    injector.plan(Fault("sqs.SendMessage", FaultKind.APPLIED_LOST, times=1))

    [send] = calls.run(SEND)

    assert (True, 2) == (send["ok"], send["attempts"])
    assert ["hello", "hello"] == moto.bodies(calls.queue)
    assert [("hello", {}), ("hello", {})] == proxy.recorder.sent


def test_a_crash_kills_the_handlers_process_at_that_call(calls, injector, moto):
    """The proxy tells the harness, which kills the runner's process group: the invocation
    has no answer, the call was not applied, and the next invocation starts cold."""
    injector.plan(Fault("dynamodb.PutItem", FaultKind.CRASH, times=1))
    crashed = calls.runner.pid

    reply = calls.runner.invoke({"calls": [PUT, SEND]})

    assert Crashed("invocation crashed at dynamodb.PutItem") == reply
    assert [] == moto.items(calls.table)
    assert [] == moto.bodies(calls.queue)
    assert calls.run(PUT)[0]["ok"]
    assert crashed not in calls.runner.pids


def test_a_race_runs_while_the_request_is_held(calls, injector, moto, proxy):
    """The race's actor runs on the request's thread before it goes upstream: it sees the
    handler's earlier PutItem, and no message yet."""
    seen = []
    injector.plan_race(
        Race("sqs.SendMessage", RaceKind.CONSUMER_ADVANCES),
        lambda: seen.append((len(moto.items(calls.table)), len(proxy.recorder.sent))),
    )

    calls.run(PUT, SEND)

    assert [(1, 0)] == seen
    assert 1 == len(proxy.recorder.sent)
    assert ["race:consumer_advances", "passed"] == [
        a.outcome for a in injector.attempts if a.operation == "sqs.SendMessage"
    ]


def test_two_lanes_interleave_under_the_scheduler(runners, handlers, moto, proxy, injector):
    """Two runners, one lane each: the proxy names the lane, the harness makes that the
    scheduler's identity, and the drawn switch points decide who runs, as in process."""
    first = _calls(runners, handlers, moto, proxy, lane=0)
    second = _calls(runners, handlers, moto, proxy, lane=1)
    scheduler = Scheduler(Switches((1,)), on_switch=lambda index, operation: None)
    injector.scheduler = scheduler.at_call
    proxy.on_request = lambda lane: setattr(scheduler._who, "index", lane)

    answers = scheduler.run(lambda: first.run(PUT, SEND), lambda: second.run(PUT, SEND))

    assert [
        "A dynamodb.PutItem",
        "B dynamodb.PutItem",
        "B sqs.SendMessage",
        "A sqs.SendMessage",
    ] == scheduler.calls
    assert all(call["ok"] for answer in answers for call in answer)


def test_the_sdk_sends_to_the_queue_urls_host(runners, handlers, moto, proxy, injector):
    """The JS SDK's SQS client sends to the host of the queue URL, not to
    AWS_ENDPOINT_URL_SQS (``useQueueUrlAsEndpoint``): a queue URL on moto's host bypasses the
    proxy, which is why the harness hands the handler ``proxy.queue_url(...)``."""
    calls = _calls(runners, handlers, moto, proxy)
    calls.runner.stop()
    env = {
        **proxy.environment(0),
        **node.ENVIRONMENT,
        "CALLS_TABLE": calls.table,
        "CALLS_QUEUE_URL": calls.queue,
    }
    calls.runner.start(node.command("calls.mjs:handler", handlers), env, str(handlers))

    calls.run(SEND)

    assert [] == _seen(injector, "sqs.SendMessage")
    assert [] == proxy.recorder.sent


# -- the wire itself: SQS's query protocol, refusals --


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", parts.path or "/", body=body.encode(), headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def _query(proxy, queue: str, **form: str) -> tuple[int, str]:
    url = proxy.queue_url(queue)
    body = urllib.parse.urlencode({"QueueUrl": url, "Version": "2012-11-05", **form})
    return _post(
        url,
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/sqs/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
            "amz-sdk-request": "attempt=1; max=3",
        },
    )


def test_the_query_protocol_is_named_injected_and_recorded(moto, proxy, injector):
    """An SQS client of the query protocol (Action= in a form body) is named like a JSON one,
    its sends are recorded, and an injected error comes back in that protocol's XML."""
    queue = moto.queue()
    sent = _query(
        proxy,
        queue,
        Action="SendMessage",
        MessageBody="one",
        **{
            "MessageAttribute.1.Name": "kind",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "order",
        },
    )
    batch = _query(
        proxy,
        queue,
        Action="SendMessageBatch",
        **{
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "two",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.MessageBody": "three",
        },
    )
    injector.plan(Fault("sqs.SendMessage", FaultKind.THROTTLE, times=1))
    status, throttled = _query(proxy, queue, Action="SendMessage", MessageBody="four")

    assert (200, 200) == (sent[0], batch[0])
    assert [("one", {"kind": "order"}), ("two", {}), ("three", {})] == proxy.recorder.sent
    assert 403 == status
    assert "<Code>RequestThrottled</Code>" in throttled
    assert "<Type>Sender</Type>" in throttled
    assert ["sqs.SendMessage", "sqs.SendMessageBatch", "sqs.SendMessage"] == [
        a.operation for a in injector.attempts
    ]


def test_a_json_batch_records_only_the_entries_the_queue_accepted(moto, proxy):
    queue = moto.queue()
    entries = [
        {"Id": "a", "MessageBody": "one", "MessageAttributes": {}},
        {"Id": "b", "MessageBody": "two", "DelaySeconds": 901},  # refused: over 900 s
    ]
    status, _ = _post(
        proxy.queue_url(queue),
        json.dumps({"QueueUrl": proxy.queue_url(queue), "Entries": entries}),
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.SendMessageBatch",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/sqs/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        },
    )

    assert 200 == status
    assert [("one", {})] == proxy.recorder.sent


def _dynamodb(proxy, operation: str, body: dict[str, object]) -> tuple[int, dict[str, str]]:
    status, text = _post(
        proxy.url(0) + "/",
        json.dumps(body),
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/dynamodb/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
            "amz-sdk-request": "attempt=1; max=3",
        },
    )
    return status, json.loads(text)


def test_an_attribute_value_dynamodb_refuses_gets_its_400_and_stores_nothing(moto, proxy, injector):
    """``{"S": 7}`` gets DynamoDB's SerializationException (``com.amazon.coral.service#...``)
    and ``{}`` (what SDK v3 sends for ``{S: null}``) its ValidationException, where moto's
    server answers an HTML 500 that the SDK retries. Each counts as an attempt that reached
    the service."""
    table = moto.table("id")
    item = {"id": {"S": "a"}, "text": {"S": 7}}

    status, body = _dynamodb(proxy, "PutItem", {"TableName": table, "Item": item})
    empty, _ = _dynamodb(proxy, "PutItem", {"TableName": table, "Item": {"id": {}}})

    assert (400, 400) == (status, empty)
    assert {
        "__type": "com.amazon.coral.service#SerializationException",
        "message": "NUMBER_VALUE cannot be converted to String",
    } == body
    assert [] == moto.items(table)
    assert ["error:SerializationException", "error:ValidationException"] == [
        a.outcome for a in injector.attempts
    ]
    assert 2 == proxy.recorder.requests


@pytest.mark.parametrize(
    ("path", "headers", "why"),
    [
        ("/", {"X-Amz-Target": "Kinesis_20131202.PutRecord"}, "Kinesis_20131202.PutRecord"),
        ("/", {"Content-Type": "application/json"}, "names no operation"),
        ("http://example.com/", {"X-Amz-Target": "AmazonSQS.SendMessage"}, "no general"),
    ],
)
def test_requests_for_anything_else_are_refused_and_logged(proxy, injector, path, headers, why):
    """Nothing but the configured services is forwarded; the rest is answered with an error."""
    connection = http.client.HTTPConnection("127.0.0.1", int(proxy.url(0).rsplit(":", 1)[1]))
    try:
        connection.request("POST", path, body=b"{}", headers=headers)
        answer = connection.getresponse()
        status, body = answer.status, answer.read().decode()
    finally:
        connection.close()

    assert 400 == status
    assert "QueuecheckRefused" in body
    assert why in proxy.refused[-1]
    assert [] == injector.attempts


def test_stopping_the_proxy_closes_its_ports_and_threads(moto, injector):
    from model.harness.runtimes.proxy import Proxy

    before = {thread.name for thread in threading.enumerate()}
    proxy = Proxy({"sqs": moto.url}, injector).start(lanes=2)
    ports = [int(proxy.url(lane).rsplit(":", 1)[1]) for lane in (0, 1)]
    proxy.stop()

    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            http.client.HTTPConnection("127.0.0.1", port, timeout=5).connect()
    assert before == {thread.name for thread in threading.enumerate()}
