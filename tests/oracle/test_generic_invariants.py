"""The generic invariants on hand-built steps: each one fails on the bug it is for.

Values are written from the pipeline file's words (key template, statuses, mutable list,
id_path), never by running a handler.
"""

import json

import attrs
import pytest

from model.core import generic
from model.core.generic import Change, Invalid, Memory, Step, Submit
from model.core.spec import parse
from model.core.views import Kind, Reply, View

PIPELINE = parse(
    {
        "handler": "billing.intake:handler",
        "event": {
            "source": "rest",
            "method": "POST",
            "path": "/invoices",
            "id_field": "invoiceId",
            "content_field": "lines",
        },
        "answer": {"accepted": [200, 202]},
        "table": {
            "env": "T",
            "key": {"pk": "INV#{id}", "sk": "HEAD"},
            "status": "phase",
            "pending": "ACCEPTED",
            "queued": "FORWARDED",
            "later": ["BILLED", "PAID"],
            "mutable": ["phase", "changedAt"],
            "on_send_failure": "pending",
        },
        "queue": {"env": "Q", "id_path": "invoice.id"},
    }
)
REQUEST = Submit("a", '{"n":1}')
ACCEPTED = Reply(Kind.ACCEPTED, 202, "{}")
FAILED = Reply(Kind.FAILED, 503, '{"message": "try again"}')


def item(phase, **more):
    return {"pk": "INV#a", "sk": "HEAD", "phase": phase, "lines": '{"n":1}', **more}


def view(*items, sent=0):
    bodies = [json.dumps({"invoice": {"id": "a"}})] * sent
    return View.of(PIPELINE, items, bodies)


def step(*views, reply=ACCEPTED, request=REQUEST, faults=(), races=(), actors=()):
    changes = tuple(
        Change(before, after, *actor)
        for before, after, actor in zip(
            views, views[1:], [*actors, *[()] * len(views)], strict=False
        )
    )
    return Step(request, reply, changes, faults, races)


def check(invariant, a_step, memory=None):
    return invariant(PIPELINE, a_step, memory or Memory())


def test_a_status_that_goes_back_within_one_invocation_is_seen():
    """No record, then a consumer sets BILLED, then the handler sets FORWARDED: start and end
    look fine, the middle change does not."""
    middle = [view(item("ACCEPTED"), sent=1), view(item("BILLED"), sent=1)]
    a_step = step(view(), *middle, view(item("FORWARDED"), sent=1), actors=[(), ("a consumer",)])
    assert ["record INV#a/HEAD went back from BILLED to FORWARDED"] == check(
        generic.statuses_only_move_forward, a_step
    )
    calm = step(view(), view(item("FORWARDED"), sent=1))
    assert [] == check(generic.statuses_only_move_forward, calm)


def test_a_status_the_file_does_not_name_is_reported():
    """A stored status outside the file's list is reported with the list it should be from."""
    a_step = step(view(), view(item("QUEUED"), sent=1))
    expected = [
        "record INV#a/HEAD has phase='QUEUED', not one of ['ACCEPTED', 'FORWARDED', 'BILLED', "
        "'PAID']"
    ]
    assert expected == check(generic.statuses_only_move_forward, a_step)


def test_metadata_outside_mutable_never_changes():
    """changedAt may change; lines may not; a record may not vanish in 'pending' mode."""
    ok = step(view(item("ACCEPTED", changedAt="1")), view(item("FORWARDED", changedAt="2"), sent=1))
    assert [] == check(generic.metadata_never_changes, ok)
    clobbered = step(view(item("ACCEPTED")), view(item("FORWARDED", lines="{}"), sent=1))
    assert [
        "record INV#a/HEAD: lines changed from '{\"n\":1}' to '{}' (lines is not in table.mutable)"
    ] == check(generic.metadata_never_changes, clobbered)
    vanished = step(view(item("ACCEPTED")), view(), reply=FAILED)
    assert ["record INV#a/HEAD (phase=ACCEPTED) disappeared"] == check(
        generic.metadata_never_changes, vanished
    )


def test_queued_means_sent_and_messages_name_records():
    """A record at the queued status needs a message with its id; a message needs a record,
    unless a rollback orphaned it."""
    unsent = step(view(), view(item("FORWARDED")))
    assert ["record INV#a/HEAD is FORWARDED but no message with its id was sent"] == check(
        generic.queued_records_were_sent, unsent
    )
    orphan = step(view(), view(sent=1))
    assert ["a queue message names a, but no record INV#a/HEAD is stored"] == check(
        generic.every_message_names_a_record, orphan
    )
    assert [] == check(generic.every_message_names_a_record, orphan, Memory(orphaned={"a"}))


def test_accepted_means_queued_and_sent():
    """An accepted answer needs the record at the queued status or later, and its message."""
    pending = step(view(), view(item("ACCEPTED"), sent=1))
    assert ["accepted (202 {}) but record INV#a/HEAD is ACCEPTED, not FORWARDED or later"] == (
        check(generic.accepted_answers_mean_queued_and_sent, pending)
    )
    unsent = step(view(), view(item("FORWARDED")))
    assert ["accepted but no message with id a was sent"] == check(
        generic.accepted_answers_mean_queued_and_sent, unsent
    )
    done = step(view(), view(item("FORWARDED"), sent=1))
    assert [] == check(generic.accepted_answers_mean_queued_and_sent, done)


def test_a_failed_send_leaves_the_record_pending():
    """After a failure where only SQS was disturbed, the record is at the pending status
    (on_send_failure = 'pending'); a DynamoDB fault is not this rule's business."""
    faults = (("sqs.SendMessage", "server_error"),)
    marked = step(view(), view(item("FORWARDED")), reply=FAILED, faults=faults)
    assert [
        "the send failed and the answer was a failure, but record INV#a/HEAD is FORWARDED, "
        "not ACCEPTED"
    ] == check(generic.send_failure_leaves_record_as_declared, marked)
    kept = step(view(), view(item("ACCEPTED")), reply=FAILED, faults=faults)
    assert [] == check(generic.send_failure_leaves_record_as_declared, kept)
    dynamo = step(view(), view(), reply=FAILED, faults=(("dynamodb.PutItem", "throttle"),))
    assert [] == check(generic.send_failure_leaves_record_as_declared, dynamo)


def test_invalid_requests_are_refused_and_write_nothing():
    """An invalid request is refused with a 4xx, writes nothing and sends nothing: accepting
    it breaks all three, failing it with a 5xx (no fault) breaks the first."""
    bad = Invalid("invoiceId missing")
    refused = Reply(Kind.REFUSED, 400, "{}")
    assert [] == check(
        generic.invalid_requests_are_refused_and_change_nothing,
        step(view(), view(), reply=refused, request=bad),
    )
    assert [
        "an invalid request (invoiceId missing) was accepted: 202 {}",
        "an invalid request (invoiceId missing) sent a message",
        "an invalid request (invoiceId missing) changed records ['INV#a/HEAD']",
    ] == check(
        generic.invalid_requests_are_refused_and_change_nothing,
        step(view(), view(item("ACCEPTED"), sent=1), reply=ACCEPTED, request=bad),
    )
    assert [
        'an invalid request (invoiceId missing) got 503 {"message": "try again"}, not a 4xx'
    ] == check(
        generic.invalid_requests_are_refused_and_change_nothing,
        step(view(), view(), reply=FAILED, request=bad),
    )


def test_a_repeat_of_a_queued_request_sends_nothing():
    """A calm repeat of a queued request sends nothing; a second message for an id needs a
    fault or race behind it."""
    again = step(view(item("FORWARDED"), sent=1), view(item("FORWARDED"), sent=2))
    assert [
        "record INV#a/HEAD was already FORWARDED, yet the repeat sent 1 more message(s)",
        "2 messages name a, though no request for it was disturbed",
    ] == check(generic.repeats_send_nothing_new, again)
    disturbed = step(
        view(item("ACCEPTED")),
        view(item("FORWARDED"), sent=2),
        faults=(("sqs.SendMessage", "applied_lost"),),
    )
    assert [] == check(generic.repeats_send_nothing_new, disturbed)


def test_failures_leak_no_internals_or_resource_names():
    """A failure's body naming an AWS error or a resource is reported with what it revealed."""
    leaky = Reply(Kind.FAILED, 500, "An error occurred (ThrottlingException) on queuecheck-t")
    problems = check(
        generic.failures_leak_nothing,
        step(view(), view(), reply=leaky),
        Memory(secrets=("queuecheck-t",)),
    )
    assert [
        "the 500 answer reveals ['An error occurred (', 'ThrottlingException', 'queuecheck-t']: "
        "'An error occurred (ThrottlingException) on queuecheck-t'"
    ] == problems
    assert [] == check(generic.failures_leak_nothing, step(view(), view(), reply=FAILED))


@pytest.mark.parametrize(
    ("text", "revealed"),
    [
        # what the SDK for JavaScript v3 throws on a timeout or a dropped connection
        ('{"error": "socket hang up"}', "socket hang up"),
        ('{"error": "read ECONNRESET"}', "ECONNRESET"),
        ('{"message": "Deserialization error: to see the raw response, inspect the hidden '
         'field {error}.$response on this object."}', "Deserialization error"),
        ('{"error": {"$metadata": {"httpStatusCode": 400}}}', "$metadata"),
        # Node's JSON parser and type errors
        ('{"error": "Unexpected end of JSON input"}', "Unexpected end of JSON input"),
        ('{"error": "Unexpected token } in JSON at position 9"}', "Unexpected token"),
        ("{\"error\": \"Cannot destructure property 'a' of 'b' as it is undefined.\"}",
         "Cannot destructure property"),
        ('{"error": "TypeError: x.map is not a function"}', "TypeError"),
        # pydantic's ValidationError, as str(exc) gives it
        ('{"error": "1 validation error for JobRequest\\npayload\\n  Input should be a valid '
         'dictionary"}', "1 validation error for JobRequest"),
        # Python's JSON parser
        ('{"error": "Expecting value: line 1 column 1 (char 0)"}', "line 1 column 1 (char 0)"),
    ],
)  # fmt: skip
def test_failures_leak_no_runtime_exception_text(text, revealed):
    """The messages of the runtime's own exceptions are exception text too."""
    (problem,) = check(
        generic.failures_leak_nothing,
        step(view(), view(), reply=Reply(Kind.FAILED, 500, text)),
    )
    assert problem.startswith(f"the 500 answer reveals ['{revealed}'")


def test_a_race_alone_must_end_in_success():
    """A consumer that moved the record on is no reason to fail; a fault is, a refusal never."""
    raced = step(view(), view(item("BILLED"), sent=1), reply=FAILED, races=("consumer_advances",))
    assert [
        '503 {"message": "try again"}, but only a race ran (consumer_advances): a valid request '
        "must be accepted"
    ] == check(generic.answers_are_allowed, raced)
    faulted = step(view(), view(), reply=FAILED, faults=(("dynamodb.PutItem", "throttle"),))
    assert [] == check(generic.answers_are_allowed, faulted)
    refused = Reply(Kind.REFUSED, 409, "{}")
    assert ["409 {}: a fault is no reason to refuse a valid request (4xx); fail (5xx)"] == check(
        generic.answers_are_allowed,
        step(view(), view(), reply=refused, faults=(("dynamodb.PutItem", "throttle"),)),
    )


def test_logs_never_show_the_generated_content():
    """The canary every generated content carries must not show in what the handler logs."""
    leaky = Step(REQUEST, ACCEPTED, (Change(view(), view()),), logs=("got qc-canary-12345678",))
    assert ["the handler logged the request's content: 'got qc-canary-12345678'"] == check(
        generic.logs_carry_no_content, leaky
    )
    quiet = Step(REQUEST, ACCEPTED, (Change(view(), view()),), logs=("stored INV#a",))
    assert [] == check(generic.logs_carry_no_content, quiet)


def test_a_long_log_lines_excerpt_shows_the_leak():
    """The excerpt of a long log line is taken around the canary, not from the line's start."""
    line = "x" * 500 + " body=qc-canary-0123abcd " + "y" * 500
    logged = attrs.evolve(step(view(), view()), logs=(line,))
    (problem,) = check(generic.logs_carry_no_content, logged)
    assert "qc-canary-0123abcd" in problem
    assert len(problem) < 300
