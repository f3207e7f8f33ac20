"""Ids the handler makes (no ``id_field``; the answer names the id at ``answer.id_path``): the
other actors that need a record's id find it. A race inside an invocation finds it from what the
handler has written so far; an actor acting between invocations, from the id the handler made
for that content, which the machine remembers. Driven step by step on examples/tasks_made_ids
(a UUID per task, answered at taskId)."""

from __future__ import annotations

from pathlib import Path

from model.core.plans import Race, RaceKind
from model.core.spec import load
from model.harness.intake import load as load_intake
from model.harness.machine import ANNOTATION, machine_for
from model.harness.requests import Request
from model.harness.sandbox import start

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TASK = Request(None, {"title": "water the plants"})


def tasks_machine():
    start()
    pipeline = load(EXAMPLES / "tasks_made_ids.toml")
    return machine_for(load_intake(pipeline.handler, pipeline))()


def only_record(machine):
    records = machine.observe().records
    assert 1 == len(records), records
    return next(iter(records.items()))


def test_a_consumer_racing_the_invocation_moves_the_record_the_handler_made(sandbox):
    """Before the status update, a consumer moves the task the handler has just written on
    (PENDING -> RUNNING); the handler's conditional update then finds it picked up, and every
    invariant holds."""
    machine = tasks_machine()
    try:
        machine.submit_during_a_race(TASK, Race("dynamodb.UpdateItem", RaceKind.CONSUMER_ADVANCES))
        machine.model_invariants_hold()
        identifier, record = only_record(machine)
        assert "RUNNING" == record["status"]
        assert f"a consumer moved TASK#{identifier}/META from PENDING to RUNNING" in (
            machine.story[-1].text
        )
    finally:
        machine.teardown()


def test_a_competing_invocation_of_a_request_without_an_id_runs(sandbox):
    """The same request again, inside the first one's send: it makes a task of its own."""
    machine = tasks_machine()
    try:
        machine.submit_during_a_race(TASK, Race("sqs.SendMessage", RaceKind.COMPETING_INVOCATION))
        machine.model_invariants_hold()
        assert "a competing invocation of the same request -> 202" in machine.story[-1].text
        assert 2 == len(machine.observe().records)
    finally:
        machine.teardown()


def test_actors_between_invocations_act_on_the_id_made_for_that_content(sandbox):
    """After the task was made, a consumer moves it on and another writer annotates it: both
    find it by the id the handler answered for that content."""
    machine = tasks_machine()
    try:
        machine.submit_new_message(TASK)
        machine.model_invariants_hold()
        machine.another_actor_acts(TASK, "consumer moves on")
        machine.model_invariants_hold()
        machine.another_actor_acts(TASK, "another writer annotates")
        machine.model_invariants_hold()
        identifier, record = only_record(machine)
        assert "RUNNING" == record["status"]
        assert ANNOTATION in record
        assert f"consumer moves on: TASK#{identifier}/META" == machine.story[-2].text
    finally:
        machine.teardown()
