"""The sandbox: moto with fake credentials, no way out, no real sleeps, and a fresh world
(table, queue, retry quotas, faults) at every reset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from model.core.plans import Fault, FaultKind
from model.harness.sandbox import RealAWSRefused, Sandbox, start

PUT = "dynamodb.PutItem"
SEND = "sqs.SendMessage"
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers, nothing real either


# -- no real sleeps -------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", [PUT, SEND])
@pytest.mark.parametrize("mode", ["standard", "legacy"])
def test_retry_backoff_is_recorded_not_slept(
    sandbox: Sandbox, calls: Any, mode: str, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's backoff between retries is added to ``sleeps.slept``, and the real
    ``time.sleep`` is never called for it (checked by replacing it, not by a stopwatch: a
    shared machine's wall time proves nothing)."""
    real_sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", real_sleeps.append)
    sandbox.injector.plan(Fault(operation, FaultKind.THROTTLE, times=None))

    with pytest.raises(ClientError):
        calls.call(operation, mode)

    assert sandbox.sleeps.slept > 0
    assert [] == real_sleeps, "a retry slept for real"


def test_legacy_dynamodb_backoff_is_the_documented_series(sandbox: Sandbox, calls: Any) -> None:
    """Legacy DynamoDB retries back off 0.05 s * 2^(n-1) for its 9 retries (25.55 s in all),
    every second of it recorded and none slept."""
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))

    with pytest.raises(ClientError):
        calls.put_item(mode="legacy")

    assert sum(0.05 * 2**n for n in range(9)) == pytest.approx(sandbox.sleeps.slept)


def test_reset_zeroes_the_sleep_record(sandbox: Sandbox, calls: Any) -> None:
    """``reset()`` starts the sleep record over."""
    sandbox.injector.plan(Fault(PUT, FaultKind.SERVER_ERROR, times=1))
    calls.put_item()
    slept = sandbox.sleeps.slept

    sandbox.reset()

    assert (True, 0.0) == (slept > 0, sandbox.sleeps.slept)


# -- retry quotas ---------------------------------------------------------------------------------


def throttled_until_the_quota_runs_out(sandbox: Sandbox, calls: Any, client: Any) -> int:
    """Spend a standard-mode client's retry quota with always-throttled calls; return how many
    calls it took (botocore then reports RetryQuotaReached and stops retrying)."""
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))
    for spent in range(1, 200):
        with pytest.raises(ClientError) as raised:
            calls.put_item(client=client)
        if raised.value.response["ResponseMetadata"].get("RetryQuotaReached"):
            return spent
    raise AssertionError("the retry quota never ran out")


def test_an_exhausted_quota_stops_retries(sandbox: Sandbox, calls: Any) -> None:
    """Without a reset, a standard-mode client whose retry quota is spent no longer absorbs even
    a single throttle: the leak between examples that the sandbox's reset prevents."""
    client = calls.client("dynamodb", "standard")
    throttled_until_the_quota_runs_out(sandbox, calls, client)
    sandbox.injector.reset()
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=1))

    with pytest.raises(ClientError) as raised:
        calls.put_item(client=client)

    assert "ProvisionedThroughputExceededException" == raised.value.response["Error"]["Code"]
    assert [(1, "throttle")] == [(a.attempt, a.outcome) for a in sandbox.injector.attempts]


def test_reset_refills_retry_quotas(sandbox: Sandbox, calls: Any) -> None:
    """After a reset, the same standard-mode client (500 units, 5 per throttled retry: 50
    calls of 2 retries) again absorbs a single throttle with a retry."""
    client = calls.client("dynamodb", "standard")
    spent = throttled_until_the_quota_runs_out(sandbox, calls, client)

    sandbox.reset()
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=1))
    calls.put_item(client=client)

    assert 51 == spent
    assert [(1, "throttle"), (2, "passed")] == [
        (a.attempt, a.outcome) for a in sandbox.injector.attempts
    ]
    assert ["m-1"] == list(sandbox.items())


# -- a fresh world --------------------------------------------------------------------------------


def test_reset_empties_table_queue_and_plan(sandbox: Sandbox, calls: Any) -> None:
    """``reset()`` leaves the table and queue in place but empty, and forgets faults and the
    injector's record; the same queue URL keeps working."""
    calls.put_item("m-1")
    calls.send_message("m-1")
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))
    queue_url = sandbox.queue_url

    sandbox.reset()

    assert ({}, [], [], False) == (
        sandbox.items(),
        sandbox.messages(),
        sandbox.injector.attempts,
        sandbox.injector.active(),
    )
    calls.put_item("m-2")
    calls.send_message("m-2")
    assert (queue_url, ["m-2"], [("m-2", {})]) == (
        sandbox.queue_url,
        list(sandbox.items()),
        sandbox.messages(),
    )


def test_reset_recreates_a_deleted_table_and_queue(sandbox: Sandbox, calls: Any) -> None:
    """If a test deleted the table or the queue, ``reset()`` lays them out again."""
    with sandbox.injector.pause():
        calls.client("dynamodb").delete_table(TableName=sandbox.table_name)
        calls.client("sqs").delete_queue(QueueUrl=sandbox.queue_url)

    sandbox.reset()
    calls.put_item("m-1")
    calls.send_message("m-1")

    assert (["m-1"], [("m-1", {})]) == (list(sandbox.items()), sandbox.messages())


def test_the_fixture_sets_the_handler_environment(sandbox: Sandbox) -> None:
    """The ``sandbox`` fixture tells the handler where the contract's table and queue are:
    MESSAGES_TABLE and MESSAGES_QUEUE_URL, with the names and moto's account and region."""
    expected = {
        "MESSAGES_TABLE": "queuecheck-messages",
        "MESSAGES_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/queuecheck-intake",
    }
    assert expected == {name: os.environ.get(name) for name in expected}
    assert expected == sandbox.environment


def test_start_is_once_per_process(sandbox: Sandbox) -> None:
    """``start()`` returns the one sandbox of the process."""
    assert sandbox is start()


# -- reading the world ----------------------------------------------------------------------------


def test_items_are_plain_python_values(sandbox: Sandbox, calls: Any) -> None:
    """``items()`` gives every item by messageId as plain values: whole numbers are ints (not
    Decimals), also inside maps and lists; maps are dicts, lists are lists."""
    item = {
        "messageId": {"S": "m-1"},
        "version": {"N": "2"},
        "ttl": {"N": "1700000000"},
        "ratio": {"N": "1.5"},
        "queued": {"BOOL": True},
        "attributes": {"M": {"tenant": {"S": "t-1"}, "count": {"N": "3"}}},
        "tries": {"L": [{"N": "1"}, {"S": "two"}]},
    }
    calls.client("dynamodb").put_item(TableName=sandbox.table_name, Item=item)

    expected = {
        "m-1": {
            "messageId": "m-1",
            "version": 2,
            "ttl": 1700000000,
            "ratio": Decimal("1.5"),
            "queued": True,
            "attributes": {"tenant": "t-1", "count": 3},
            "tries": [1, "two"],
        }
    }
    items = sandbox.items()
    assert expected == items
    assert (int, int, int) == (
        type(items["m-1"]["version"]),
        type(items["m-1"]["attributes"]["count"]),
        type(items["m-1"]["tries"][0]),
    )


def test_items_agree_with_get_item_for_every_attribute_type(sandbox: Sandbox, calls: Any) -> None:
    """``items()`` reads moto's items in place rather than through the wire; it must give what
    a client's GetItem gives, deserialized and made plain, for every DynamoDB type."""
    from boto3.dynamodb.types import TypeDeserializer

    item = {
        "messageId": {"S": "m-1"},
        "big": {"N": "123456789012345678901234567890"},
        "negative": {"N": "-0.25"},
        "nothing": {"NULL": True},
        "flag": {"BOOL": False},
        "blob": {"B": b"\x00\xff"},
        "names": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2.5"]},
        "blobs": {"BS": [b"x"]},
        "deep": {"M": {"list": {"L": [{"M": {"n": {"N": "7"}}}, {"NULL": True}]}}},
    }
    client = calls.client("dynamodb")
    client.put_item(TableName=sandbox.table_name, Item=item)
    wire = client.get_item(TableName=sandbox.table_name, Key={"messageId": {"S": "m-1"}})["Item"]
    deserialize = TypeDeserializer().deserialize

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else value
        if isinstance(value, dict):
            return {key: plain(inner) for key, inner in value.items()}
        if isinstance(value, list | set):
            return (
                sorted(map(plain, value), key=repr)
                if isinstance(value, set)
                else [plain(inner) for inner in value]
            )
        return value

    expected = {name: plain(deserialize(value)) for name, value in wire.items()}
    got = sandbox.items()["m-1"]
    for name in ("names", "numbers", "blobs"):  # sets: order is not part of the value
        got[name] = sorted(got[name], key=repr)
    assert expected == got


def test_messages_are_bodies_and_string_attributes_in_order(sandbox: Sandbox, calls: Any) -> None:
    """``messages()`` lists the queue in sending order as (body, attributes), attribute values
    as strings whatever their data type."""
    client = calls.client("sqs")
    client.send_message(QueueUrl=sandbox.queue_url, MessageBody='{"messageId": "m-1"}')
    client.send_message(
        QueueUrl=sandbox.queue_url,
        MessageBody='{"messageId": "m-2"}',
        MessageAttributes={
            "tenant": {"DataType": "String", "StringValue": "t-1"},
            "priority": {"DataType": "Number", "StringValue": "5"},
        },
    )

    expected = [
        ('{"messageId": "m-1"}', {}),
        ('{"messageId": "m-2"}', {"tenant": "t-1", "priority": "5"}),
    ]
    assert expected == sandbox.messages()


def test_reads_see_received_messages_too(sandbox: Sandbox, calls: Any) -> None:
    """A message a consumer has received (now invisible) is still in ``messages()``: the
    snapshot is the queue's content, not what a receive would return."""
    client = calls.client("sqs")
    client.send_message(QueueUrl=sandbox.queue_url, MessageBody="m-1")
    received = client.receive_message(QueueUrl=sandbox.queue_url, VisibilityTimeout=30)

    assert 1 == len(received["Messages"])
    assert [("m-1", {})] == sandbox.messages()


# -- no way out -----------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the guard, botocore's HTTP layer fails the test instead of sending: should the
    guard ever break, these tests fail without a byte reaching AWS."""
    import botocore.httpsession

    def send(session: Any, request: Any) -> Any:
        raise AssertionError(f"the guard let {request.method} {request.url} reach the network")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", send)


def list_everything(client: Any) -> str:
    """Like a handler with a catch-all: ``except Exception`` answers whatever went wrong."""
    try:
        if client.meta.service_model.service_name == "dynamodb":
            client.list_tables()
        else:
            client.list_queues()
    except Exception:
        return "swallowed"
    return "answered"


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("service", ["dynamodb", "sqs"])
def test_a_request_moto_does_not_answer_is_refused(
    sandbox: Sandbox, calls: Any, service: str
) -> None:
    """A client pointed past moto (an endpoint moto does not recognise) is stopped before
    anything is sent: RealAWSRefused, which no ``except Exception`` can swallow, and which
    is not retried."""
    client = calls.client(service, "legacy", endpoint_url=NOWHERE)

    with pytest.raises(RealAWSRefused, match="only moto may answer"):
        list_everything(client)
    assert 0.0 == sandbox.sleeps.slept


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("service", ["dynamodb", "sqs"])
def test_a_moto_passthrough_is_refused(
    sandbox: Sandbox, calls: Any, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service moto is configured to pass through would go to the real AWS endpoint: the
    guard refuses it, naming the URL."""
    from moto.core.config import default_user_config

    passthrough = {"urls": [], "services": [service]}
    monkeypatch.setitem(default_user_config["core"], "passthrough", passthrough)
    client = calls.client(service, "legacy")

    with pytest.raises(RealAWSRefused, match=rf"https://{service}\.us-east-1\.amazonaws\.com"):
        list_everything(client)


def test_real_aws_refused_is_a_base_exception() -> None:
    """RealAWSRefused is a BaseException and not an Exception."""
    assert (True, False) == (
        issubclass(RealAWSRefused, BaseException),
        issubclass(RealAWSRefused, Exception),
    )


def test_this_process_runs_on_the_sandboxs_settings(sandbox: Sandbox) -> None:
    """Inside the sandbox the environment holds the settings the sandbox itself forces, beyond
    the fake keys tox already sets: a session token under both names, the region under both
    names, no moto region outside AWS's, and no config or credentials file to read a profile
    from. None of the settings that could point a client elsewhere is set."""
    forced = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "MOTO_ALLOW_NONEXISTENT_REGION": "false",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    dangerous = {
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    }

    assert forced == {name: os.environ.get(name) for name in forced}
    assert set() == dangerous & set(os.environ)


START_IN_A_FRESH_PROCESS = """
import json, os
from model.harness.sandbox import start

box = start()
import boto3
session = boto3.session.Session()
client = session.client("dynamodb")
client.put_item(TableName=box.table_name, Item={"messageId": {"S": "m-1"}})
credentials = session.get_credentials()
names = [
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_REGION", "AWS_DEFAULT_REGION",
]
print(json.dumps({
    "environ": {name: os.environ.get(name) for name in names},
    "credentials": [credentials.access_key, credentials.secret_key, credentials.token],
    "region": session.region_name,
    "endpoint": client.meta.endpoint_url,
    "items": sorted(box.items()),
}))
"""


def test_start_forces_fake_credentials_and_drops_dangerous_settings(tmp_path: Path) -> None:
    """Started in a process whose environment sets every setting that could reach a real
    account (a profile, endpoints, a role, container and web-identity credentials, real-looking
    keys, a config and a credentials file naming another region and endpoint), the sandbox
    removes or replaces each one, and a client made afterwards talks to moto, at the standard
    endpoint, with the fake keys."""
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\nendpoint_url = " + NOWHERE + "\n")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIAFROMTHEFILE00000\n"
        "aws_secret_access_key = secret-from-the-file\n"
    )
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY00",
        "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
        "AWS_SESSION_TOKEN": "a-real-looking-session-token",
        "AWS_SECURITY_TOKEN": "a-real-looking-security-token",
        "AWS_PROFILE": "production",
        "AWS_DEFAULT_PROFILE": "production",
        "AWS_ENDPOINT_URL": NOWHERE,
        "AWS_ENDPOINT_URL_DYNAMODB": NOWHERE,
        "AWS_ENDPOINT_URL_SQS": NOWHERE,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": NOWHERE + "/credentials",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/deploy",
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "token"),
        "AWS_ROLE_ARN": "arn:aws:iam::111111111111:role/deploy",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    finished = subprocess.run(
        [sys.executable, "-c", START_IN_A_FRESH_PROCESS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert 0 == finished.returncode, finished.stderr
    expected = {
        "environ": {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "AWS_ENDPOINT_URL": None,
            "AWS_ENDPOINT_URL_DYNAMODB": None,
            "AWS_ENDPOINT_URL_SQS": None,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
            "AWS_WEB_IDENTITY_TOKEN_FILE": None,
            "AWS_ROLE_ARN": None,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        "credentials": ["testing", "testing", "testing"],
        "region": "us-east-1",
        "endpoint": "https://dynamodb.us-east-1.amazonaws.com",
        "items": ["m-1"],
    }
    assert expected == json.loads(finished.stdout)
