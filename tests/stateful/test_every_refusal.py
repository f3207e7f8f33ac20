"""Every kind of invalid request the harness knows, sent once each in every run.

The state machine draws invalid requests among its other rules, so a ci run of 100 examples
sends only some kinds of them (mutation testing found six kinds it never sent: a handler
that accepted NaN, or answered 500 to an invalid base64 body, passed). Here each kind goes to
the handler under test in one short story, judged by the machine's own invariants: the
answer the contract demands, a documented error body with details that name a part of the
request and API Gateway's request id, nothing written, nothing sent, no payload logged.
"""

from __future__ import annotations

import pytest

from model.harness.strategies import INVALID_EVENTS


def test_every_invalid_request_is_refused_as_the_contract_says(intake_machine, pipeline):
    """One machine, every invalid event in turn, every invariant after each."""
    if pipeline is not None:
        pytest.skip("a pipeline file's intake has its own invalid requests (tests/pipelines)")
    machine = intake_machine()
    try:
        for case in INVALID_EVENTS:
            machine.submit_invalid_request(case)
            machine.model_invariants_hold()
    finally:
        machine.teardown()
    assert len(machine.story) >= len(INVALID_EVENTS)


def _rewritten(change):
    """The reference, with its error answers rewritten by ``change`` (body dict, headers)."""
    import json

    from reference.handler import lambda_handler

    def handler(event, context):
        answer = lambda_handler(event, context)
        if answer["statusCode"] >= 400:
            body = json.loads(answer["body"])
            change(body["error"], answer["headers"], context)
            answer["body"] = json.dumps(body)
        return answer

    return handler


def _problem_lost(error, headers, context):
    for detail in error.get("details", []):
        detail["problem"] = None


def _field_renamed(error, headers, context):
    for detail in error.get("details", []):
        detail["field"] = detail["field"].upper()


def _lambda_request_id(error, headers, context):
    error["requestId"] = context.aws_request_id


def _allow_lower_case(error, headers, context):
    if "Allow" in headers:
        headers["Allow"] = headers["Allow"].lower()


@pytest.mark.parametrize(
    ("change", "invariant"),
    [
        (_problem_lost, "no problem text"),
        (_field_renamed, "names no part of the request"),
        (_lambda_request_id, "the request's is"),
        (_allow_lower_case, "405 answer with Allow"),
    ],
)
def test_the_sweep_fails_on_a_broken_error_answer(change, invariant, sandbox):
    """Each check the sweep relies on fails on the bug it is for."""
    from model.harness.machine import machine_for

    machine = machine_for(_rewritten(change))()
    with pytest.raises(AssertionError, match=invariant):
        for case in INVALID_EVENTS:
            machine.submit_invalid_request(case)
            machine.model_invariants_hold()


def test_the_sweep_catches_what_the_machines_draws_may_miss(sandbox):
    """stateful.zoo.attributes_checked_after_storing writes a record and a message before it
    refuses a request whose attributes alone are invalid: the ci run of the machine may not
    draw such a request (the zoo says why), the sweep sends it every time."""
    import importlib

    from model.harness.machine import machine_for

    zoo = importlib.import_module("stateful.zoo")
    machine = machine_for(zoo.attributes_checked_after_storing)()
    try:
        with pytest.raises(AssertionError, match="invariant refusals_write_nothing"):
            for case in INVALID_EVENTS:
                machine.submit_invalid_request(case)
                machine.model_invariants_hold()
    finally:
        machine.teardown()
