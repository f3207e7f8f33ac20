"""Realistic sample reports, for the screenshots in ``docs/`` and for the tests.

    python -m model.report.sample docs/        # docs/report-pass.png, docs/report-fail.png

writes both pages (``--html`` keeps them beside the screenshots) and screenshots them with the
system's headless Chromium (``model.report.chromium``). The runs are written by hand after real
ones: the reference's PASS on the thorough profile, and two zoo variants' shrunk failing runs
(``check_then_act_dedupe`` in an interleaving, ``unconditional_update`` in a consumer race).
Once the state machine fills a ``Report``, a real run's page is screenshot the same way:
``python -m model.report.chromium screenshot PAGE.html OUT.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from model.report import chromium, html
from model.report.trace import (
    Broken,
    Call,
    Coverage,
    Failure,
    Header,
    Invocation,
    Mark,
    Report,
    Stats,
    Step,
)

VERSIONS = {"queuecheck": "0.1.0", "hypothesis": "6.155.2", "moto": "5.2.1", "boto3": "1.43.11"}
INVARIANTS = (
    (
        "errors_are_documented_and_leak_nothing",
        "An error uses a documented code with its HTTP "
        "status and exact shape, carries no internals, and a 503 has Retry-After.",
    ),
    ("logs_carry_no_payload", "No log record or output line shows a payload."),
    ("sqs_failure_rolls_back", "After an error caused by SQS alone, the record is PENDING."),
    (
        "statuses_only_move_forward",
        "PENDING -> QUEUED -> PROCESSING -> DELIVERED/FAILED; nothing goes back.",
    ),
    ("metadata_never_changes", "Only the status-update fields change; everything else stays."),
    ("queued_records_were_sent", "QUEUED or later means a message with that id is in the queue."),
    (
        "one_message_per_id_unless_disturbed",
        "More than one message per id only after a fault or a race; one record per id.",
    ),
    ("queue_messages_have_records", "Every queue message belongs to a stored record."),
    (
        "stored_records_match_submissions",
        "A new record holds exactly what was submitted, with every contract field.",
    ),
    (
        "refusals_write_nothing",
        "Invalid requests, conflicts, duplicates and lookups write and send nothing.",
    ),
    (
        "accepted_requests_are_queued",
        "A 2xx names a QUEUED-or-later record whose queued body is what was submitted.",
    ),
    (
        "answers_are_allowed",
        "The answer is one the model allows for this request, state and fault.",
    ),
    ("handler_always_answers", "Every invocation returns a proxy response."),
    (
        "a_serial_order_explains_them",
        "Some serial order of two interleaved invocations gives "
        "both their answers and leaves the record and queue as seen.",
    ),
    ("liveness", "Once faults stop, retrying what failed ends in 2xx with every record QUEUED."),
)
OPERATIONS = ("dynamodb.GetItem", "dynamodb.PutItem", "dynamodb.UpdateItem", "sqs.SendMessage")
FAULTS = {
    "dynamodb.GetItem": (31, 12, 9, 11, 21, 17, 56),
    "dynamodb.PutItem": (412, 198, 77, 80, 143, 61, 120),
    "dynamodb.UpdateItem": (377, 201, 64, 72, 158, 58, 97),
    "sqs.SendMessage": (455, 240, 81, 69, 176, 66, 133),
}
RACES = {
    "dynamodb.GetItem": (0, 0, 0, 0),
    "dynamodb.PutItem": (151, 88, 74, 39),
    "dynamodb.UpdateItem": (180, 102, 53, 47),
    "sqs.SendMessage": (166, 97, 61, 44),
}
ENCODINGS = {
    "plain JSON": 2210,
    "base64 body": 1894,
    "\\u-escaped": 1731,
    "indented, keys reordered": 1602,
    "header names in other case": 1934,
}


def _coverage() -> Coverage:
    kinds = (
        "throttle",
        "server_error",
        "timeout",
        "connection_error",
        "applied_lost",
        "access_denied",
        "crash",
    )
    races = ("consumer_advances", "competing_invocation", "record_expires", "record_vanishes")
    return Coverage(
        faults={(op, k): n for op, row in FAULTS.items() for k, n in zip(kinds, row, strict=True)},
        races={
            (op, k): n for op, row in RACES.items() for k, n in zip(races, row, strict=True) if n
        },
        interleavings=612,
        encodings=ENCODINGS,
    )


def _header(profile: str, settings: str, replay: str) -> Header:
    return Header(
        handler="reference.handler:lambda_handler",
        backend="moto, in-process",
        profile=profile,
        settings=settings,
        replay=replay,
        versions=VERSIONS,
    )


def pass_report() -> Report:
    """The reference on the thorough profile, as in the README."""
    return Report(
        header=_header(
            "thorough",
            "max_examples=400, steps per example<=40, derandomize=False",
            "queuecheck-verify --profile thorough --seed 214748364",
        ),
        stats=Stats(416, 17285, 9371, 120.5, 179586, 40213),
        invariants=INVARIANTS,
        coverage=_coverage(),
    )


CREATED = "2026-11-30T09:14:02.117Z"
HASH = "5f1c0b8e4a2d9c7e3b6a1f0d8c2e4b7a9d3f6c1e0b5a8d2c7f4e9b1a6c3d0e8f"
BODY = '{"messageId": "order-1", "type": "order.created", "payload": {"sku": "A-7", "qty": 2}}'
REQUEST = (
    'POST /messages {"type": "order.created", "payload": {"sku": "A-7", "qty": 2}, '
    '"messageId": "order-1"}'
)
ACCEPTED = '202 {"messageId": "order-1", "status": "QUEUED", "duplicate": false}'
CHECK_FAILED = "error:ConditionalCheckFailedException"


def _record(status: str, version: int, request: str, **more: str) -> dict[str, str]:
    return {
        "messageId": "order-1",
        "status": status,
        "type": "order.created",
        "payload": '{"qty":2,"sku":"A-7"}',
        "payloadHash": HASH,
        "createdAt": more.pop("createdAt", CREATED),
        "updatedAt": more.pop("updatedAt", CREATED),
        "ttl": "1765098842",
        "version": str(version),
        "requestId": request,
        **more,
    }


def _interleaving() -> Failure:
    """check_then_act_dedupe: GetItem, then an unconditional PutItem when nothing was found.
    B runs whole between A's check and A's write, and A's PutItem overwrites B's QUEUED record."""
    a, b = REQUEST, REQUEST + " (the same request again)"
    by_b = _record(
        "QUEUED",
        2,
        "req-0002",
        updatedAt="2026-11-30T09:14:02.131Z",
        queuedAt="2026-11-30T09:14:02.131Z",
        sqsMessageId="6a1e0c2f-7d9b",
    )
    after = _record(
        "QUEUED",
        2,
        "req-0001",
        createdAt="2026-11-30T09:14:02.140Z",
        updatedAt="2026-11-30T09:14:02.152Z",
        queuedAt="2026-11-30T09:14:02.152Z",
        sqsMessageId="c41d93b0-1f2e",
    )
    problems = (
        "no serial order of A and B explains what they did: A then B would have answered B "
        "200 duplicate, B then A would have answered A 200 duplicate; both answered 202",
        "record order-1: createdAt changed from 2026-11-30T09:14:02.117Z to "
        "2026-11-30T09:14:02.140Z (A replaced the record B had queued)",
    )
    steps = [
        Step(
            1,
            "interleave",
            "interleave A with B (the same request), A makes 1 call, then B makes 4 calls, "
            "then each runs to its end: A -> 202, B -> 202; record QUEUED, 2 message(s)",
            invocations=[
                Invocation("A", a, ACCEPTED),
                Invocation("B", b, ACCEPTED),
            ],
            calls=[
                Call.of("A", "dynamodb.GetItem"),
                Call.of("B", "dynamodb.GetItem"),
                Call.of("B", "dynamodb.PutItem"),
                Call.of("B", "sqs.SendMessage"),
                Call.of("B", "dynamodb.UpdateItem"),
                Call.of("A", "dynamodb.PutItem"),
                Call.of("A", "sqs.SendMessage"),
                Call.of("A", "dynamodb.UpdateItem"),
            ],
            marks=[
                Mark("switch", 1, "A hands over to B before its dynamodb.PutItem", "B", {}),
                Mark(
                    "switch",
                    5,
                    "B has answered; A resumes at its dynamodb.PutItem",
                    "A",
                    {"order-1": by_b},
                ),
            ],
            broke=Broken("a_serial_order_explains_them", problems),
            records_after={"order-1": after},
            messages_after={"order-1": [BODY, BODY]},
        ),
    ]
    return Failure(
        "a_serial_order_explains_them",
        problems,
        steps,
        replay=(
            "queuecheck-verify --handler stateful.zoo:check_then_act_dedupe --profile ci",
            "python -m model.scenarios --handler stateful.zoo:check_then_act_dedupe failing.toml",
        ),
        scenario_path="failing.toml",
    )


def _race() -> Failure:
    """unconditional_update: a consumer moves the record on between the send and the status
    update, which then drags it back to QUEUED; a throttled send is retried on the way."""
    request = REQUEST
    dragged = _record(
        "QUEUED",
        3,
        "req-0003",
        updatedAt="2026-11-30T09:14:03.024Z",
        queuedAt="2026-11-30T09:14:03.024Z",
        sqsMessageId="0b7f2d41-93aa",
    )
    processing = _record("PROCESSING", 2, "req-0003", updatedAt="2026-11-30T09:14:03.020Z")
    problems = ("record order-1 went back from PROCESSING to QUEUED",)
    answer = ACCEPTED
    steps = [
        Step(1, "fault", "plan throttle on sqs.SendMessage 1x"),
        Step(2, "race", "plan a race: consumer_advances before dynamodb.UpdateItem attempt #1"),
        Step(
            3,
            "invoke",
            f"submit {request} -> {answer}  [dynamodb.PutItem#1:passed, "
            "sqs.SendMessage#1:throttle, sqs.SendMessage#2:passed, "
            "dynamodb.UpdateItem#1:race:consumer_advances, dynamodb.UpdateItem#1:passed]; "
            "inside it, a consumer moved order-1 from PENDING to PROCESSING",
            invocations=[Invocation("invocation 3", request, answer)],
            calls=[
                Call.of("invocation 3", "dynamodb.PutItem"),
                Call.of("invocation 3", "sqs.SendMessage", 1, "throttle"),
                Call.of("invocation 3", "sqs.SendMessage", 2),
                Call.of("invocation 3", "dynamodb.UpdateItem"),
            ],
            marks=[
                Mark(
                    "race",
                    3,
                    "a consumer moved order-1 from PENDING to PROCESSING",
                    "consumer",
                    {"order-1": processing},
                ),
            ],
            broke=Broken("statuses_only_move_forward (after the race)", problems),
            records_after={"order-1": dragged},
            messages_after={"order-1": [BODY]},
        ),
    ]
    return Failure(
        "statuses_only_move_forward (after the race)",
        problems,
        steps,
        replay=(
            "queuecheck-verify --handler stateful.zoo:unconditional_update --profile ci",
            "python -m model.scenarios --handler stateful.zoo:unconditional_update failing.toml",
        ),
    )


def _actor_story() -> Failure:
    """A longer run: a record goes PENDING after a lost send, a consumer moves it on outside
    any invocation, and the liveness retry is answered 500 (``consumer_race_as_failure``)."""
    request = REQUEST
    pending = _record(
        "PENDING", 1, "req-0001", lastError="SendMessage: RequestThrottled", enqueueAttempts="1"
    )
    queued = _record(
        "QUEUED",
        2,
        "req-0004",
        updatedAt="2026-11-30T09:14:05.310Z",
        queuedAt="2026-11-30T09:14:05.310Z",
        sqsMessageId="77d1e0aa-51c2",
        lastError="SendMessage: RequestThrottled",
        enqueueAttempts="1",
    )
    processing = {
        **queued,
        "status": "PROCESSING",
        "version": "3",
        "updatedAt": "2026-11-30T09:14:05.402Z",
    }
    failed = (
        '503 {"error": {"code": "SYSTEM_ERROR", "message": "try again later", '
        '"requestId": "req-0001"}}'
    )
    problems = ("liveness retry for order-1 answered 500 SYSTEM_ERROR; the model allows 200",)
    steps = [
        Step(1, "fault", "plan throttle on sqs.SendMessage always"),
        Step(
            2,
            "invoke",
            f"submit {request} -> {failed}",
            invocations=[Invocation("invocation 2", request, failed, "failed")],
            calls=[
                Call.of("invocation 2", "dynamodb.PutItem"),
                *[Call.of("invocation 2", "sqs.SendMessage", n, "throttle") for n in (1, 2, 3)],
                Call.of("invocation 2", "dynamodb.UpdateItem"),
            ],
            records_after={"order-1": pending},
        ),
        Step(3, "clear", "faults stop", records_after={"order-1": pending}),
        Step(
            4,
            "liveness",
            "liveness: retry the unfinished request for order-1",
            invocations=[Invocation("retry 1", request, ACCEPTED)],
            calls=[
                Call.of("retry 1", "dynamodb.PutItem", 1, CHECK_FAILED),
                Call.of("retry 1", "sqs.SendMessage"),
                Call.of("retry 1", "dynamodb.UpdateItem", 1, "applied_lost"),
                Call.of("retry 1", "dynamodb.UpdateItem", 2, CHECK_FAILED),
            ],
            records_after={"order-1": queued},
            messages_after={"order-1": [BODY]},
        ),
        Step(
            5,
            "actor",
            "consumer moves on: order-1",
            actor="consumer",
            records_after={"order-1": processing},
            messages_after={"order-1": [BODY]},
        ),
        Step(
            6,
            "liveness",
            "liveness: retry the unfinished request for order-1",
            invocations=[
                Invocation(
                    "retry 2",
                    request,
                    '500 {"error": {"code": "SYSTEM_ERROR", "requestId": "req-0006"}}',
                    "failed",
                )
            ],
            calls=[
                Call.of("retry 2", "dynamodb.PutItem", 1, CHECK_FAILED),
            ],
            broke=Broken("liveness", problems),
            records_after={"order-1": processing},
            messages_after={"order-1": [BODY]},
        ),
    ]
    return Failure("liveness", problems, steps)


def fail_report() -> Report:
    """Two zoo variants' failures in one run, the shallowest first: an interleaving and a race."""
    return Report(
        header=_header(
            "ci",
            "max_examples=60, steps per example<=20, derandomize=True",
            "derandomize=True: the same run on every rerun",
        ),
        stats=Stats(57, 1183, 702, 6.1, 11914, 2830),
        invariants=INVARIANTS,
        coverage=_coverage(),
        failures=(_interleaving(), _race()),
    )


def story_report() -> Report:
    """A longer failing run with every kind of row: plans, faults, service errors, an actor
    step, liveness retries."""
    return Report(header=_header("ci", "", ""), invariants=INVARIANTS, failures=(_actor_story(),))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.report.sample", description=__doc__)
    parser.add_argument("out", type=Path, help="folder for report-pass.png and report-fail.png")
    parser.add_argument("--html", action="store_true", help="keep the HTML pages there too")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        where = args.out if args.html else Path(scratch)
        for name, report, height in (("pass", pass_report(), 1500), ("fail", fail_report(), 3200)):
            page = html.write(report, where / f"report-{name}.html")
            shot = chromium.screenshot(page, args.out / f"report-{name}.png", (1280, height))
            print(f"{shot} ({shot.stat().st_size:,} bytes) from {page.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
