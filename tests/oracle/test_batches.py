"""SQS batches with partial batch responses: what each message of a batch finds, and what a
handler's answer says of each message. Batches, records and answers written by hand from the
pipeline file's words (key template, statuses, id_path) and from AWS Lambda's documentation of
``ReportBatchItemFailures``, never by running a handler."""

from __future__ import annotations

import hashlib
import json

import attrs
import pytest

from model.core import generic
from model.core.generic import Change, Invalid, Memory, Part, Step, Submit
from model.core.serial import Concurrent, a_serial_order_explains_them
from model.core.sources import read_batch
from model.core.spec import parse
from model.core.views import Kind, Reply, View

PIPELINE = parse(
    {
        "event": {"source": "sqs", "id_field": "deliveryId", "content_field": "parcel"},
        "answer": {"partial_batch": True, "invalid": "refuse"},
        "table": {
            "env": "T",
            "key": {"pk": "DLV#{id}", "sk": "DELIVERY"},
            "status": "stage",
            "pending": "STORED",
            "queued": "FORWARDED",
            "later": ["OUT"],
            "mutable": ["stage"],
            "on_send_failure": "pending",
        },
        "queue": {"env": "Q", "id_path": "delivery.id"},
    }
)
PARCEL, OTHER = '{"n":1}', '{"n":2}'
ACKNOWLEDGED = Reply(Kind.ACCEPTED, None, "", note="acknowledged")
LISTED = Reply(Kind.FAILED, None, "", note="failed (listed in batchItemFailures)")


def item(stage: str, parcel: str = PARCEL, delivery: str = "d-1") -> dict[str, str]:
    return {"pk": f"DLV#{delivery}", "sk": "DELIVERY", "stage": stage, "parcel": parcel}


def view(*items: dict[str, str], sent: int = 0) -> View:
    bodies = [json.dumps({"delivery": {"id": "d-1"}})] * sent
    return View.of(PIPELINE, items, bodies)


# -- what each message of a batch finds ---------------------------------------------------


def test_a_message_conflicts_with_what_an_earlier_message_of_its_batch_stored():
    """Nothing stored before the batch; its first message stores d-1 with one parcel, so the
    second, d-1 with another parcel, finds a record with other content: a conflict."""
    batch = (Submit("d-1", PARCEL), Submit("d-1", OTHER))
    assert (False, True) == generic.conflicts(batch, view(), {})


def test_a_repeat_within_a_batch_is_no_conflict():
    """The same parcel twice in one batch: the second finds its twin's record, no conflict."""
    batch = (Submit("d-1", PARCEL), Submit("d-1", PARCEL))
    assert (False, False) == generic.conflicts(batch, view(), {})


def test_a_stored_record_decides_for_every_message_of_the_batch():
    """d-1 was stored before the batch with PARCEL: a message with OTHER conflicts, and so does
    a later one with OTHER (the earlier one, refused, stored nothing); a later PARCEL does not."""
    before = view(item("FORWARDED"), sent=1)
    batch = (Submit("d-1", OTHER), Submit("d-1", OTHER), Submit("d-1", PARCEL))
    assert (True, True, False) == generic.conflicts(batch, before, {"d-1": PARCEL})


def test_a_record_of_unknown_content_is_no_known_conflict():
    """A record the model does not know the content of (stored by no request it saw) makes
    no message a conflict; invalid messages and other ids are none either."""
    before = view(item("FORWARDED"), sent=1)
    batch = (Invalid("parcel missing"), Submit("d-1", OTHER), Submit("d-2", PARCEL))
    assert (False, False, False) == generic.conflicts(batch, before, {})


def test_a_refused_conflict_of_the_same_batch_is_an_allowed_answer():
    """The batch (d-1 PARCEL, d-1 OTHER), nothing wrong: the first stored and forwarded, the
    second reported failed (the handler's refusal). With the second known as a conflict, the
    answers are allowed, and the send rule does not take it for a failed send."""
    after = view(item("FORWARDED"), sent=1)
    step = Step(
        Submit("d-1", PARCEL),
        ACKNOWLEDGED,
        (Change(view(), after),),
        others=(Part(Submit("d-1", OTHER), LISTED, conflict=True),),
    )
    assert [] == generic.answers_are_allowed(PIPELINE, step, Memory())
    unknown = Step(
        Submit("d-1", PARCEL),
        ACKNOWLEDGED,
        (Change(view(), after),),
        others=(Part(Submit("d-1", OTHER), LISTED),),
    )
    assert [
        "failed (listed in batchItemFailures), but nothing went wrong: a valid request must "
        "be accepted"
    ] == generic.answers_are_allowed(PIPELINE, unknown, Memory())
    faulted = Step(
        Submit("d-1", PARCEL),
        LISTED,
        (Change(view(), view(item("STORED"))),),
        faults=(("sqs.SendMessage", "access_denied"),),
        others=(Part(Submit("d-1", OTHER), LISTED, conflict=True),),
    )
    assert [] == generic.send_failure_leaves_record_as_declared(PIPELINE, faulted, Memory())


def test_two_messages_at_once_one_refused_by_reporting_it_failed():
    """Two invocations at once, d-1 with two parcels (canaries spelled out): the first stored
    and forwarded, the second reported failed, which is how an SQS handler refuses. Some
    serial order explains it; a failure of the first, on an empty table, none does."""
    mine, theirs = "qc-canary-aaaa1111", "qc-canary-bbbb2222"
    parcel = json.dumps({"canary": mine})
    after = View.of(
        PIPELINE,
        [item("FORWARDED", parcel)],
        [json.dumps({"delivery": {"id": "d-1", "parcel": {"canary": mine}}})],
    )
    a = Concurrent("A", Submit("d-1", parcel), ACKNOWLEDGED, mine)
    b = Concurrent("B", Submit("d-1", json.dumps({"canary": theirs})), LISTED, theirs)
    assert [] == a_serial_order_explains_them(
        PIPELINE, "d-1", [a, b], before=view(), after=after, stored=None
    )
    nothing_done = [attrs.evolve(a, reply=LISTED), b]
    assert a_serial_order_explains_them(
        PIPELINE, "d-1", nothing_done, before=view(), after=view(), stored=None
    )


# -- what a partial batch response says of each message ------------------------------------
# AWS Lambda, "Reporting batch item failures" for SQS (ReportBatchItemFailures): an empty or
# null batchItemFailures list, and an empty or null response, are a complete success; an
# itemIdentifier that is empty, null, under another key name, or names a message not in the
# batch, is a complete failure (the whole batch comes again).

BATCH = ["m-1", "m-2", "m-3"]


def kinds(answer: object, partial: bool = True) -> list[str]:
    pipeline = PIPELINE if partial else attrs.evolve(PIPELINE, partial_batch=False)
    return [str(reply.kind) for reply in read_batch(pipeline, answer, BATCH)]


@pytest.mark.parametrize(
    "answer",
    [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, {"status": "done"}],
    ids=["null response", "empty response", "empty list", "null list", "no list"],
)
def test_no_failure_listed_is_a_complete_success(answer):
    """Nothing listed, however it is said: every message is acknowledged."""
    assert ["accepted", "accepted", "accepted"] == kinds(answer)


def test_the_listed_messages_failed_and_the_others_are_acknowledged():
    answer = {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert ["accepted", "failed", "accepted"] == kinds(answer)
    (listed,) = [r for r in read_batch(PIPELINE, answer, BATCH) if r.kind is Kind.FAILED]
    assert "failed (listed in batchItemFailures)" == listed.describe()


@pytest.mark.parametrize(
    "item",
    [
        {},
        {"itemIdentifier": ""},
        {"itemIdentifier": None},
        {"ItemIdentifier": "m-2"},
        {"itemIdentifier": "m-9"},
        "m-2",
        None,
    ],
    ids=[
        "no itemIdentifier",
        "empty itemIdentifier",
        "null itemIdentifier",
        "another key name",
        "not in the batch",
        "an id, not an object",
        "null item",
    ],
)
def test_a_malformed_item_fails_the_whole_batch(item):
    """One item Lambda cannot read beside a good one: the whole batch failed."""
    answer = {"batchItemFailures": [{"itemIdentifier": "m-1"}, item]}
    assert ["failed", "failed", "failed"] == kinds(answer)
    (why,) = {reply.describe() for reply in read_batch(PIPELINE, answer, BATCH)}
    assert why.startswith("failed: returned ") and why.endswith(
        "which Lambda reads as the whole batch failed"
    )


@pytest.mark.parametrize(
    "answer",
    [{"batchItemFailures": "m-2"}, {"batchItemFailures": {"itemIdentifier": "m-2"}}, "ok", [1]],
    ids=["list is a string", "list is an object", "a string", "a list"],
)
def test_a_response_that_is_no_batch_response_fails_the_whole_batch(answer):
    assert ["failed", "failed", "failed"] == kinds(answer)


def test_without_partial_batch_responses_returning_acknowledges_the_batch():
    """Without ReportBatchItemFailures, Lambda ignores what the handler returns."""
    answer = {"batchItemFailures": [{"itemIdentifier": "m-2"}, "junk"]}
    assert ["accepted", "accepted", "accepted"] == kinds(answer, partial=False)


def test_the_model_learns_the_content_the_record_shows_not_the_first_message():
    """Under a fault, the batch (d-1 {}, d-1 {"sku": 0}): the first message's write failed, the
    second stored d-1. The record shows the second's canary (the harness's mark: "qc-canary-"
    and the first 8 hex digits of the SHA-256 of the content's sorted JSON, written out here),
    so the model learns the second content, and a later first message is a conflict."""
    first, second = "{}", '{"sku":0}'
    mark = "qc-canary-" + hashlib.sha256(b'{"sku": 0}').hexdigest()[:8]
    stored = item("FORWARDED", json.dumps({"sku": 0, "canary": mark}))
    step = Step(
        Submit("d-1", first),
        LISTED,
        (Change(view(), view(stored, sent=1)),),
        faults=(("dynamodb.PutItem", "throttle"),),
        others=(Part(Submit("d-1", second), ACKNOWLEDGED),),
    )
    memory = Memory()
    generic.remember(PIPELINE, step, memory)
    assert {"d-1": second} == memory.contents
    assert (True,) == generic.conflicts((Submit("d-1", first),), view(stored), memory.contents)
