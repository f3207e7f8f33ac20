"""Intakes written to other schemas, verified from their pipeline files (examples/).

Each example is a handler a team outside queuecheck might write, with its own route, key,
status names, event source and shape (two statuses or one, ids in the request or made by the
handler, object or text content, single requests or SQS batches, headers it checks). The
correct ones must pass; each broken one must fail, and on the derandomized ci profile, by the
invariant named here. A correct example a known harness bug fails is marked with that bug.
"""

import importlib
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

import model.harness.profiles  # noqa: F401 - registers the profiles by name
from model.core.generic import INVARIANTS
from model.core.spec import SOURCES, load
from model.harness.intake import load as load_intake
from model.harness.machine import LAST_FAILURE, machine_for, machine_for_pipeline
from model.harness.requests import PipelineRequests, Request
from model.harness.sandbox import start

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REFERENCE_FILE = Path(__file__).resolve().parents[2] / "pipelines" / "reference.toml"
CI = settings.get_profile("ci")  # pinned: the invariants named below are the ci profile's
KNOWN_CHECKS = {check.__name__ for check in INVARIANTS} | {
    "liveness",
    "handler_always_answers",
    "a_serial_order_explains_them",
}

CORRECT = [
    "invoices_rest",
    "shipments_http",
    "signups_direct",
    "reminders_one_status",
    "tasks_made_ids",
    "prompts_text",
    "deliveries_sqs_batch",
    "webhooks_api_key",
]
BROKEN = {
    # the test plan's literal reading: mark QUEUED, then send, revert on failure. The revert
    # drags the status back, and a crash between mark and send leaves a queued record whose
    # message was never sent: which the run meets first depends on the draw.
    "orders_mark_then_send": {"statuses_only_move_forward", "queued_records_were_sent"},
    # a status update without a condition overwrites a consumer that moved the record on
    "tickets_unconditional_update": {"statuses_only_move_forward"},
    # an SQS error swallowed: the record is marked queued although nothing was sent
    "payments_swallowed_send_error": {"queued_records_were_sent"},
    # only "Content-Type: application/json" spelled so is taken: the request encodings
    # (header case, charset) show it refusing valid requests, alone or as one of two
    # interleaved invocations (whose answers a serial order must explain)
    "receipts_exact_header": {"answers_are_allowed", "a_serial_order_explains_them"},
    # repeats told from conflicts by a hash of the raw body: a respelled retry of the same
    # refund is refused as a conflict, alone or when it runs beside its original
    "refunds_raw_body_hash": {"answers_are_allowed", "a_serial_order_explains_them"},
    # a GetItem, then an unconditional PutItem: only two invocations at once show it, two
    # interleaved ones (no serial order) or a competing one inside a race (whose PutItem
    # overwrites the record the first just wrote: metadata changes)
    "bookings_check_then_put": {"a_serial_order_explains_them", "metadata_never_changes"},
    # one status written before the send, and a repeat of a stored record answered "already
    # exists" without sending: a competing invocation of the same request says so before the
    # first has sent (accepted, no message; the name carries "(in the competing invocation)"),
    # and a send that failed for good leaves a QUEUED record whose message no retry sends
    "notices_duplicate_not_resent": {
        "accepted_answers_mean_queued_and_sent",
        "queued_records_were_sent (once the retries are done)",
    },
    # ids the handler makes; a failed AWS call answered 500 with the exception's text
    "jobs_exception_text": {"failures_leak_nothing"},
    # a text content, logged as it came
    "summaries_prompt_logged": {"logs_carry_no_content"},
    # SQS batches: a message whose write or send failed is acknowledged, so it counts as
    # accepted with no record or a record still STORED; with nothing left to retry, the STORED
    # record is still there at the end of the run (liveness)
    "dispatches_failure_acknowledged": {"accepted_answers_mean_queued_and_sent", "liveness"},
    # x-api-key read in one spelling: a valid request refused, alone or as one of two
    # interleaved invocations (whose answers a serial order must explain)
    "callbacks_exact_key_header": {"answers_are_allowed", "a_serial_order_explains_them"},
    # the request stored before it is checked: an invalid claim is refused 400, its record kept
    "claims_stored_before_check": {"invalid_requests_are_refused_and_change_nothing"},
    # a record at the pending status taken for a lock held by another invocation, answered 409
    # "try again later": a competing invocation of the same request is told so while the first
    # is still working (a repeat of a pending record must be resumed, so answers_are_allowed
    # sees any such lock before liveness can: LATER_RUNS shows liveness seeing this one)
    "transfers_lock_never_expires": {"answers_are_allowed"},
}
# A report (queuecheck-verify) runs again with each invariant it found ignored, so that the next
# run finds the next bug. Broken examples whose later run is caught by an invariant no first run
# is caught by: the invariants an earlier run reported, and what the next run's catch must be.
LATER_RUNS = {
    # with the lock's 409 allowed (answers_are_allowed, a_serial_order_explains_them), what is
    # left is the lock itself: an invocation that dies before releasing it (or cannot set
    # SUBMITTED) leaves a record no retry can finish once faults stop
    "transfers_lock_never_expires": (
        ("answers_are_allowed", "a_serial_order_explains_them"),
        {"liveness"},
    ),
}
# The reference's own pipeline file (pipelines/reference.toml) judges handlers by the generic
# invariants too: these zoo variants (tests/stateful/zoo.py) break generic invariants no broken
# example above is caught by first, each named as on the ci profile.
ZOO_BY_THE_REFERENCE_FILE = {
    # a repeat of a queued record sent again
    "duplicates_sent_again": {"repeats_send_nothing_new"},
    # a failed send leaves the record FAILED, where the file declares it stays PENDING
    "rollback_marks_failed": {"send_failure_leaves_record_as_declared"},
    # a failed PutItem ignored: the message names a record that was never stored
    "swallowed_store_error": {"every_message_names_a_record"},
}
# Correct examples a harness bug fails today, with the exception it fails them with (strictly on
# ci: once the harness is fixed the test passes, and the entry must go). The same bugs may come
# first in a broken example's run of the same shape; the ci runs here meet each one's own bug
# first. None today: kept for the next one found.
HARNESS_BUGS: dict[str, tuple[type[BaseException], str]] = {}
# The shapes a pipeline file can describe beyond two statuses and an id in the request: each
# has a correct example and a broken one.
SHAPES = {
    "one status, written before the send": lambda p: p.one_status and p.written == "before_send",
    "ids the handler makes": lambda p: p.handler_makes_ids,
    "a text content": lambda p: p.content_kind == "string",
    "SQS batches, partial batch responses": lambda p: p.source == "sqs" and p.partial_batch,
    "headers the handler checks, settings in [env]": lambda p: bool(p.headers and p.env),
}


def machine(name, ignored=frozenset()):
    """The example's machine, loaded as a run loads it: table, queue and [env] set first; save
    for the ``ignored`` invariants, as a report's later run holds it."""
    start()
    pipeline = load(EXAMPLES / f"{name}.toml")
    return machine_for(load_intake(pipeline.handler, pipeline), ignored=frozenset(ignored))


def examples(names):
    """The names as test parameters, each the harness cannot judge yet marked so: strictly, as
    every run here is the ci profile's, whose run is fixed."""
    return [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                raises=HARNESS_BUGS[name][0], reason=HARNESS_BUGS[name][1], strict=True
            )
            if name in HARNESS_BUGS
            else (),
        )
        for name in names
    ]


def test_every_example_is_listed():
    """Each pipeline file in examples/ is verified by this module, as correct or as broken."""
    assert sorted(CORRECT + list(BROKEN)) == sorted(p.stem for p in EXAMPLES.glob("*.toml"))


def test_examples_cover_every_source():
    """There is a correct example for each event source a pipeline file can name."""
    assert set(SOURCES) == {load(EXAMPLES / f"{n}.toml").source for n in CORRECT}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_examples_cover_every_shape(shape):
    """Each shape of intake has a correct example and a broken one."""
    fits = SHAPES[shape]
    assert [n for n in CORRECT if fits(load(EXAMPLES / f"{n}.toml"))]
    assert [n for n in BROKEN if fits(load(EXAMPLES / f"{n}.toml"))]


def test_declared_headers_come_with_every_request_as_clients_spell_them():
    """On a REST API, event.headers come with every request, their names in each case a client
    may spell them: what shows callbacks_exact_key_header's bug."""
    pipeline = load(EXAMPLES / "callbacks_exact_key_header.toml")
    space = PipelineRequests(pipeline)
    events = [space.event(Request("id-1", {}), f"req-{n}") for n in range(60)]
    spellings = [
        [name for name, value in event["headers"].items() if value == "demo-key-2b81d4"]
        for event in events
    ]
    assert all(1 == len(names) for names in spellings)
    assert {"X-Api-Key", "x-api-key", "X-API-KEY"} == {names[0] for names in spellings}


@pytest.mark.parametrize("name", examples(CORRECT))
def test_correct_example_passes(name, sandbox):
    """A correct intake keeps every generic invariant under every fault and race, and ends live."""
    run_state_machine_as_test(machine(name), settings=CI)


@pytest.mark.parametrize("name", examples(sorted(BROKEN)))
def test_broken_example_fails_on_its_invariant(name, sandbox):
    """The harness finds a failing run for each broken intake and names the invariant it broke
    (a name may say where it broke: "... (in the competing invocation)")."""
    with pytest.raises(AssertionError, match="invariant "):
        run_state_machine_as_test(machine(name), settings=CI)
    named = LAST_FAILURE.invariant.split(" (")[0]
    assert named in KNOWN_CHECKS, LAST_FAILURE.problems
    expected = BROKEN[name]
    assert LAST_FAILURE.invariant in expected or named in expected, LAST_FAILURE.problems


@pytest.mark.parametrize("name", sorted(LATER_RUNS))
def test_broken_example_fails_on_its_next_invariant_in_a_later_run(name, sandbox):
    """With the invariants a report's earlier runs found ignored, the broken example's next run
    fails on the invariant named here."""
    ignored, expected = LATER_RUNS[name]
    assert name in BROKEN and set(ignored) >= BROKEN[name]
    with pytest.raises(AssertionError, match="invariant "):
        run_state_machine_as_test(machine(name, ignored), settings=CI)
    assert LAST_FAILURE.invariant.split(" (")[0] in expected, LAST_FAILURE.problems


@pytest.mark.zoo
@pytest.mark.parametrize("variant", sorted(ZOO_BY_THE_REFERENCE_FILE))
def test_zoo_variant_fails_a_generic_invariant_by_the_reference_file(variant, sandbox):
    """Judged by the generic invariants alone, as the reference's pipeline file describes it, the
    zoo variant fails on the generic invariant its bug breaks."""
    start()
    handler = getattr(importlib.import_module("stateful.zoo"), variant)
    with pytest.raises(AssertionError, match="invariant "):
        run_state_machine_as_test(machine_for_pipeline(load(REFERENCE_FILE), handler), settings=CI)
    assert LAST_FAILURE.invariant.split(" (")[0] in ZOO_BY_THE_REFERENCE_FILE[variant], (
        LAST_FAILURE.problems
    )
