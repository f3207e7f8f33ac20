"""One machine for every intake: the contract is a judge on top of it, and an intake a pipeline
file describes gets the same spellings of its requests that the contract's do."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import attrs
import pytest

from model.core import generic
from model.core import invariants as contract_invariants
from model.core.spec import load
from model.core.views import Kind, Reply, View
from model.harness.intake import contract_pipeline
from model.harness.judges import CONTRACT_ONLY, REFINES, ContractJudge, GenericJudge
from model.harness.requests import PipelineRequests, Request

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_every_contract_invariant_refines_a_generic_one_and_none_is_left_out():
    """The contract judge stands in for the generic one: each of its invariants says a generic
    invariant in stricter terms, and every generic invariant has such a stricter twin, so a
    contract run is never weaker than a pipeline run of the same handler."""
    contract = {check.__name__ for check in contract_invariants.INVARIANTS}
    contract.add("a_serial_order_explains_them")
    generic_names = {check.__name__ for check in generic.INVARIANTS}
    generic_names.add("a_serial_order_explains_them")
    assert contract == set(REFINES) | CONTRACT_ONLY
    assert not set(REFINES) & CONTRACT_ONLY
    assert generic_names == set(REFINES.values())
    assert set(ContractJudge.names) == contract
    assert set(GenericJudge.names) == generic_names


def test_the_contract_runs_are_driven_by_the_reference_description():
    """The package's copy of pipelines/reference.toml says the same as the file users read."""
    shipped, documented = contract_pipeline(), load(ROOT / "pipelines" / "reference.toml")
    assert documented == attrs.evolve(shipped, origin=documented.origin)


def _events(name: str, count: int = 60) -> list[dict]:
    pipeline = load(EXAMPLES / f"{name}.toml")
    space = PipelineRequests(pipeline)
    request = Request("id-1", {"sku": 1, "note": "ünï"})
    return [space.event(request, f"req-{n}") for n in range(count)]


def _body(event: dict) -> dict:
    text = event["body"]
    if event.get("isBase64Encoded"):
        text = base64.b64decode(text).decode("utf-8")
    return json.loads(text)


def _content_type(event: dict) -> str:
    (value,) = [v for k, v in event["headers"].items() if k.lower() == "content-type"]
    return value


@pytest.mark.parametrize("name", ["invoices_rest", "refunds_raw_body_hash", "shipments_http"])
def test_every_spelling_is_the_same_valid_request_with_a_json_content_type(name):
    """However a request is spelled, it carries a JSON media type and the same document."""
    events = _events(name)
    documents = {json.dumps(_body(event), sort_keys=True) for event in events}
    assert 1 == len(documents), documents
    for event in events:
        kind, *parameters = _content_type(event).lower().replace(" ", "").split(";")
        assert "application/json" == kind
        assert set(parameters) <= {"charset=utf-8"}


def test_a_rest_api_spells_header_names_and_bodies_many_ways():
    """REST: header names as the client spelled them, JSON with other spacing and key order;
    both headers and multiValueHeaders filled, as API Gateway fills them."""
    events = _events("refunds_raw_body_hash")
    assert {"Content-Type", "content-type", "CONTENT-TYPE"} == {
        name for event in events for name in event["headers"]
    }
    assert 1 < len({event["body"] for event in events if not event["isBase64Encoded"]})
    assert all(event["multiValueHeaders"] for event in events)
    assert any(event["isBase64Encoded"] for event in events)


def test_base64_bodies_come_only_where_the_file_says_the_api_sends_them():
    """invoices_rest declares no binary media types: never base64; an HTTP API never
    base64-encodes a JSON body and always lower-cases header names."""
    assert not any(event["isBase64Encoded"] for event in _events("invoices_rest"))
    http = _events("shipments_http")
    assert not any(event["isBase64Encoded"] for event in http)
    assert {"content-type"} == {name for event in http for name in event["headers"]}


def test_a_ci_run_is_chosen_by_what_the_machine_draws_not_by_its_source():
    """Hypothesis derives a derandomized seed from the machine class's source, found by its
    name; no class is written under the name runs use, so an edit to the machine's code cannot
    move which run a ci profile explores (it used to move the zoo's named invariants)."""
    import inspect

    from hypothesis.internal.reflection import function_digest

    from model.harness.machine import RUN_NAME, IntakeMachine, machine_for
    from reference.handler import lambda_handler

    made = machine_for(lambda_handler)
    with pytest.raises(OSError, match=r"could not (get source code|find class definition)"):
        inspect.getsource(made)
    assert function_digest(type(RUN_NAME, (IntakeMachine,), {})) == function_digest(made)


def test_a_batch_message_finds_what_an_earlier_message_of_its_batch_stored():
    """The generic judge expects, for each message of an SQS batch, the record it finds: a
    message whose id an earlier message of the same batch stored with other content is a
    conflict (the handler may report it failed), though the table had no record before."""
    pipeline = load(EXAMPLES / "deliveries_sqs_batch.toml")
    judge = GenericJudge(pipeline)
    batch = (generic.Submit("id-1", '{"n":1}'), generic.Submit("id-1", '{"n":2}'))
    nothing = View.of(pipeline, [], [])
    assert (False, True) == judge.expect(batch, nothing, generic.Memory())


def test_a_competing_batch_finds_what_the_interrupted_one_stored():
    """A competing invocation of a batch (id-1 one parcel, id-1 another) runs inside the first
    after it stored id-1 with the first parcel, which the model has not learned yet: the
    competitor's second message finds that record, a conflict it may report failed."""
    pipeline = load(EXAMPLES / "deliveries_sqs_batch.toml")
    judge = GenericJudge(pipeline)
    batch = (generic.Submit("id-1", '{"n":1}'), generic.Submit("id-1", '{"n":2}'))
    stored = {"pk": "DLV#id-1", "sk": "DELIVERY", "stage": "STORED", "parcel": '{"n":1}'}
    before = View.of(pipeline, [stored], [])
    forwarded = View.of(
        pipeline, [{**stored, "stage": "FORWARDED"}], ['{"delivery": {"id": "id-1"}}']
    )
    answer = (Reply(Kind.ACCEPTED, None, ""), Reply(Kind.FAILED, None, ""))
    step = judge.competitor(
        batch, answer, before, forwarded, replaceable=frozenset(), memory=generic.Memory()
    )
    assert [False, True] == [part.conflict for part in step.parts]
    assert [] == generic.answers_are_allowed(pipeline, step, generic.Memory())


def test_a_repeat_in_an_interleaved_pair_may_send_again_where_the_intake_resends(sandbox):
    """reminders_one_status sends again on every repeat (one status, kept on a failed send).
    Two pairs at once of one id, other content each time: the second pair's accepted repeat
    sends a second message, which later steps must not take for an undisturbed duplicate."""
    from model.core.plans import Switches
    from model.harness.intake import load as load_intake
    from model.harness.machine import machine_for

    pipeline = load(EXAMPLES / "reminders_one_status.toml")
    machine = machine_for(load_intake(pipeline.handler, pipeline))()
    try:
        for _ in range(2):
            machine.interleave_two_invocations(
                at=Switches((0,)),
                request=Request("id-1", {}),
                twin="other content under the same id",
            )
            machine.model_invariants_hold()
        machine.submit_invalid_request(("reminderId missing", {"schedule": {"sku": 1}}))
        machine.model_invariants_hold()
        assert 2 == machine.observe().sent("id-1")
    finally:
        machine.teardown()
