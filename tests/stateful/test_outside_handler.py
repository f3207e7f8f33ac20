"""A handler from outside the repository, named with --handler, is verified the same way."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]

# A first attempt at the intake as a user might write it, with no queuecheck code in it:
# right order, but unconditional writes and no rollback of failures.
NAIVE_HANDLER = textwrap.dedent(
    """
    import hashlib, json, os, time
    import boto3

    _clients = {}

    def _client(name):
        if name not in _clients:
            _clients[name] = boto3.client(name)
        return _clients[name]

    def handler(event, context):
        body = json.loads(event.get("body") or "{}")
        message_id = body.get("messageId") or hashlib.sha256(
            json.dumps(body, sort_keys=True).encode()).hexdigest()
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        table = os.environ["MESSAGES_TABLE"]
        _client("dynamodb").put_item(TableName=table, Item={
            "messageId": {"S": message_id}, "type": {"S": body["type"]},
            "payload": {"S": json.dumps(body["payload"])}, "status": {"S": "PENDING"},
            "createdAt": {"S": now}, "updatedAt": {"S": now}, "version": {"N": "1"},
            "ttl": {"N": str(int(time.time()) + 604800)}})
        _client("sqs").send_message(QueueUrl=os.environ["MESSAGES_QUEUE_URL"],
            MessageBody=json.dumps({"messageId": message_id, **body}))
        _client("dynamodb").update_item(TableName=table, Key={"messageId": {"S": message_id}},
            UpdateExpression="SET #s = :q", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":q": {"S": "QUEUED"}})
        return {"statusCode": 202, "body": json.dumps(
            {"messageId": message_id, "status": "QUEUED", "duplicate": False})}
    """
)


def run_harness(tmp_path, spec, module_source, profile="ci"):
    (tmp_path / f"{spec.partition(':')[0]}.py").write_text(module_source)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HYPOTHESIS_PROFILE": profile}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/stateful/test_reference_passes.py",
            "--handler",
            spec,
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
        ],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    ("spec", "source", "passes"),
    [
        (
            "outside_reference:handler",
            "from reference.handler import lambda_handler as handler\n",
            True,
        ),
        ("outside_naive:handler", NAIVE_HANDLER, False),
    ],
    ids=["reference re-exported", "naive first attempt"],
)
def test_handler_from_outside_the_repository_is_verified(tmp_path, spec, source, passes):
    """--handler imports a module from PYTHONPATH: a correct one passes, a naive one fails with
    a named invariant. The correct one on the dev profile: what is checked here is the import
    from outside (test_reference_passes.py runs the reference on ci); the naive one on ci, so
    its catch is the fixed run's."""
    result = run_harness(tmp_path, spec, source, profile="dev" if passes else "ci")
    output = result.stdout + result.stderr
    if passes:
        assert 0 == result.returncode, output[-3000:]
    else:
        assert 1 == result.returncode, output[-3000:]
        assert "invariant " in output and "broken" in output, output[-3000:]


def test_unimportable_handler_is_a_clear_error(tmp_path):
    """A --handler that cannot be imported stops the run with a message saying what to fix."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/stateful/test_reference_passes.py",
            "--handler",
            "definitely_missing_module:handler",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert 0 != result.returncode
    assert "cannot import 'definitely_missing_module'" in output, output[-2000:]
    assert "PYTHONPATH" in output
