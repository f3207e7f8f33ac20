"""Over HTTP (``--backend moto-server`` or ``dynalite``): the harness sees the services only as a
client could, and still sees what it must. Skipped on in-process moto."""

from __future__ import annotations

import json

import pytest

from model.core.plans import Fault, FaultKind

pytestmark = pytest.mark.usefixtures("sandbox")


@pytest.fixture
def wire(sandbox):
    if not sandbox.over_http:
        pytest.skip("runs on the HTTP backends: --backend moto-server or dynalite")
    return sandbox


def _submit(driver, message_id, **payload):
    return driver.submit({"messageId": message_id, "type": "t", "payload": payload})


def test_the_queue_is_what_the_services_accepted(wire, driver):
    """A message counts once SQS answered it: a throttled attempt is no message, an applied
    but lost one is (the retry sends it again: two)."""
    assert 202 == _submit(driver, "m-1", n=1).status
    wire.injector.plan(Fault("sqs.SendMessage", FaultKind.APPLIED_LOST, times=1))
    assert 202 == _submit(driver, "m-2", n=2).status
    wire.injector.plan(Fault("sqs.SendMessage", FaultKind.THROTTLE, times=None))
    assert 503 == _submit(driver, "m-3", n=3).status

    ids = [json.loads(body)["messageId"] for body in wire.bodies()]
    assert ["m-1", "m-2", "m-2"] == ids
    assert {"m-1": "QUEUED", "m-2": "QUEUED", "m-3": "PENDING"} == {
        key: item["status"] for key, item in wire.items().items()
    }


def test_a_fault_before_the_request_leaves_is_not_applied(wire, driver):
    """An access-denied PutItem answered in the client stack: nothing stored, 500."""
    wire.injector.plan(Fault("dynamodb.PutItem", FaultKind.ACCESS_DENIED, times=None))
    answer = _submit(driver, "m-9")
    assert (500, "SYSTEM_ERROR") == (answer.status, answer.error_code)
    assert {} == wire.items()


def test_nothing_but_the_backend_is_reached(wire):
    """A client pointed anywhere else is refused before anything is sent."""
    import boto3

    from model.harness.backends import RealAWSRefused

    client = boto3.client("sqs", endpoint_url="https://sqs.us-east-1.amazonaws.com")
    with pytest.raises(RealAWSRefused, match="only the backend's servers may answer"):
        client.list_queues()


def test_reads_agree_with_moto_internals(wire, driver):
    """On moto's server (it runs in this process), the Scan and the recorded sends show what
    moto's own state holds: the HTTP path and the in-process path agree."""
    if wire.backend != "moto-server":
        pytest.skip("moto's internals exist only for moto-server")
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    from model.harness.sandbox import ACCOUNT, REGION, _attribute

    _submit(driver, "m-1", n=1)
    wire.injector.plan(Fault("sqs.SendMessage", FaultKind.APPLIED_LOST, times=1))
    _submit(driver, "m-2", n=2)
    driver.submit({"messageId": "m-1", "type": "t", "payload": {"n": 9}})  # a conflict

    table = dynamodb_backends[ACCOUNT][REGION].tables[wire.table_name]
    inside = {
        str(key.value if hasattr(key, "value") else key): {
            name: _attribute(value) for name, value in item.attrs.items()
        }
        for key, item in table.items.items()
    }
    queue = sqs_backends[ACCOUNT][REGION].queues[wire.layout.queue_name]
    assert inside == wire.items()
    assert [message.body for message in queue._messages] == wire.bodies()


def _trusting_all_old():
    """The reference as it was before the fallback: a failed condition must carry the item."""
    from reference.aws import translate
    from reference.failures import StoreError
    from reference.handler import build_handler
    from reference.store import DynamoStore, _record

    class TrustingStore(DynamoStore):
        def _existing(self, message_id, failed):
            item = failed.response.get("Item")
            if not item:
                raise translate(failed, "dynamodb.PutItem", StoreError) from failed
            return _record(item)

    return build_handler(store=TrustingStore)


def test_the_reference_needs_its_read_fallback_on_dynalite(wire):
    """dynalite drops ReturnValuesOnConditionCheckFailure: without the consistent read that
    the reference falls back to, a duplicate is answered 500, and the harness says so."""
    if wire.backend != "dynalite":
        pytest.skip("only dynalite ignores ReturnValuesOnConditionCheckFailure")
    from hypothesis.stateful import run_state_machine_as_test

    from model.harness.machine import LAST_FAILURE, machine_for

    with pytest.raises(AssertionError, match="invariant"):
        run_state_machine_as_test(machine_for(_trusting_all_old()))
    # the duplicate answered 500: seen by whichever check meets it first (a single step's
    # answers_are_allowed, or an interleaving's a_serial_order_explains_them)
    assert any("500 SYSTEM_ERROR" in problem for problem in LAST_FAILURE.problems), (
        LAST_FAILURE.invariant,
        LAST_FAILURE.problems,
    )
