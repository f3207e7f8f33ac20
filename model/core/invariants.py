"""The invariants of DESIGN.md section 2, as named predicates over one observed step.

Each predicate returns the violations it finds, as sentences (empty: the rule holds). The
state machine runs every one after every step; scenarios run them too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from model.core import lifecycle
from model.core.contract import ERROR_STATUSES, Content, Lookup, Rejection, Submission, canonical
from model.core.lifecycle import CREATION_FIELDS, STATUS_UPDATE_FIELDS, Status
from model.core.observed import Answer, Snapshot
from model.core.outcomes import Disturbance, allowed, outcome_of

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")
# Text that must never reach a caller: exception and AWS error names, stack traces, resource ids.
LEAK_PATTERNS = re.compile(
    r"Traceback|Exception|Error:|botocore|boto3|arn:aws|amazonaws\.com|Throttl|AccessDenied"
    r"|ProvisionedThroughput|ConditionalCheck|InternalServerError|RequestLimit|Timeout|dynamodb|sqs",
    re.IGNORECASE,
)


CANARY = "qc-canary-"
"""Every generated payload carries a value starting so; no log line may ever show one."""


def around(line: str, needle: str, width: int = 200) -> str:
    """At most ``width`` characters of a line, taken around the first ``needle`` in it: a
    long log line's leak shows in the report even where it comes late in the line."""
    at = line.find(needle)
    if len(line) <= width or at < 0:
        return line[:width]
    start = max(0, min(at - width // 2, len(line) - width))
    return (
        ("..." if start else "")
        + line[start : start + width]
        + ("..." if start + width < len(line) else "")
    )


def canary(content: Any) -> str:
    """The canary value of one generated content: derived from the content, so two contents
    carry two canaries and a record or message shows whose content it holds."""
    text = json.dumps(content, sort_keys=True)
    return f"{CANARY}{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


@attrs.define
class Memory:
    """What the model remembers across steps; the store itself is re-observed every step."""

    contents: dict[str, Content] = attrs.Factory(dict)
    """The content of the current record for each id, learned when the record appeared."""
    uncertain: set[str] = attrs.Factory(set)
    """Ids some invocation of which was disturbed, or whose record expired and may be replaced:
    more than one queue message is allowed for them."""
    vanished: set[str] = attrs.Factory(set)
    """Ids whose record was deleted under the handler: their messages may have no record."""
    secrets: tuple[str, ...] = ()
    """Resource names (table, queue URL) an error body must not reveal."""


@attrs.frozen
class Step:
    """One step as observed: the request and answer (if any), what was injected, before/after."""

    before: Snapshot
    after: Snapshot
    request: Submission | Lookup | Rejection | None = None
    answer: Answer | None = None
    injected: tuple[tuple[str, str], ...] = ()
    replaceable: frozenset[str] = frozenset()
    """Ids whose record a race expired or deleted during the step: a new generation may start."""
    stored_content: Content | None = None
    """What the model knew the request's record to hold before the step (None: no live record)."""
    logs: tuple[str, ...] = ()
    """Every log record and output line the handler wrote during the step."""
    body: str = ""
    """The request's body as sent."""
    request_id: str = ""
    """API Gateway's id of the request (``requestContext.requestId``); empty if it had none."""

    @property
    def disturbance(self) -> Disturbance:
        return Disturbance.of(self.injected)


def _same_generation(step: Step, message_id: str) -> bool:
    """Whether the record the step ends with is the one it started with (not a replacement)."""
    return message_id not in step.replaceable and step.before.live(message_id)


def _new_generation(step: Step, message_id: str) -> bool:
    """Whether the step created the record it ends with (new, or replacing an expired one)."""
    record, before = step.after.record(message_id), step.before.record(message_id)
    if record is None:
        return False
    if before is None:
        return True
    # A replacement is a new PutItem: it brings its own creation time and fingerprint.
    return any(before.get(field) != record.get(field) for field in ("createdAt", "payloadHash"))


def statuses_only_move_forward(step: Step, memory: Memory) -> list[str]:
    """Every stored status is one the lifecycle knows, and no status (nor version) goes back."""
    problems = []
    for message_id, record in step.after.records.items():
        new = lifecycle.parse(record.get("status"))
        if new is None:
            problems.append(f"record {message_id} has unknown status {record.get('status')!r}")
            continue
        old = step.before.status(message_id)
        if old is None or not _same_generation(step, message_id):
            continue
        old_version = (step.before.record(message_id) or {}).get("version")
        new_version = record.get("version")
        if not lifecycle.reachable(old, new):
            problems.append(f"record {message_id} went back from {old} to {new}")
        elif (
            isinstance(old_version, int)
            and isinstance(new_version, int)
            and new_version < old_version
        ):
            problems.append(
                f"record {message_id}: version went back from {old_version} to {new_version}"
            )
    return problems


def queued_records_were_sent(step: Step, memory: Memory) -> list[str]:
    """A record QUEUED or later means the queue holds at least one message with its id."""
    return [
        f"record {message_id} is {record.get('status')} but no message with its id was sent"
        for message_id, record in step.after.records.items()
        if lifecycle.at_least_queued(lifecycle.parse(record.get("status")))
        and not step.after.messages_for(message_id)
    ]


def queue_messages_have_records(step: Step, memory: Memory) -> list[str]:
    """Every queue message names a stored record (unless that record was deleted under us)."""
    problems = []
    for message in step.after.messages:
        message_id = message.message_id
        if message_id is None:
            problems.append(f"queue message without a messageId: {message.raw[:120]!r}")
        elif message_id not in step.after.records and message_id not in memory.vanished:
            problems.append(f"queue message for {message_id} but no such record is stored")
    return problems


def one_message_per_id_unless_disturbed(step: Step, memory: Memory) -> list[str]:
    """One queue message per id, more only where a fault or race made an attempt's outcome unknown;
    and each record is stored under its own id."""
    counts: dict[str, int] = {}
    for message in step.after.messages:
        if message.message_id is not None:
            counts[message.message_id] = counts.get(message.message_id, 0) + 1
    problems = [
        f"{count} queue messages for {message_id}, though no request for it was disturbed"
        for message_id, count in counts.items()
        if count > 1 and message_id not in memory.uncertain
    ]
    problems += [
        f"record stored under {key} says messageId {record.get('messageId')!r}"
        for key, record in step.after.records.items()
        if record.get("messageId") != key
    ]
    return problems


def metadata_never_changes(step: Step, memory: Memory) -> list[str]:
    """Only the status-update fields of a record ever change; every other attribute keeps, value
    for value, what it was created with (including attributes another writer added)."""
    problems = []
    for message_id, old in step.before.records.items():
        if not _same_generation(step, message_id):
            continue
        new = step.after.record(message_id)
        if new is None:
            problems.append(f"record {message_id} disappeared")
            continue
        for field in sorted((set(old) | set(new)) - STATUS_UPDATE_FIELDS):
            if old.get(field) != new.get(field):
                problems.append(
                    f"record {message_id}: {field} changed "
                    f"from {old.get(field)!r} to {new.get(field)!r}"
                )
    return problems


def _check_new_record(
    message_id: str, record: Mapping[str, Any], content: Content, now: int
) -> list[str]:
    problems = [
        f"record {message_id} lacks {field}" for field in sorted(CREATION_FIELDS - set(record))
    ]
    try:
        payload = json.loads(record.get("payload", ""))
    except (TypeError, ValueError):
        payload = None
    expected = {
        "type": content.type,
        "payload": content.payload,
        "payloadHash": content.fingerprint(),
        "attributes": content.attribute_map if content.attributes is not None else None,
    }
    actual = {
        "type": record.get("type"),
        "payload": payload,
        "payloadHash": record.get("payloadHash"),
        "attributes": record.get("attributes"),
    }
    # Compared as canonical text, so 1, 1.0 and true stay different (Python's == joins them).
    problems += [
        f"record {message_id}: {field} is {actual[field]!r}, submitted {expected[field]!r}"
        for field in expected
        if _canonical_or_none(expected[field]) != _canonical_or_none(actual[field])
    ]
    for field in ("createdAt", "updatedAt"):
        if field in record and not TIMESTAMP.match(str(record[field])):
            problems.append(
                f"record {message_id}: {field} {record[field]!r} is not ISO-8601 UTC millis"
            )
    ttl = record.get("ttl")
    if not isinstance(ttl, int) or ttl <= now:
        problems.append(f"record {message_id}: ttl {ttl!r} is not a future epoch second")
    return problems


def stored_records_match_submissions(step: Step, memory: Memory) -> list[str]:
    """A record a submission creates holds exactly what was submitted, with every contract field."""
    if not isinstance(step.request, Submission):
        return []
    message_id = step.request.message_id
    record = step.after.record(message_id)
    if record is None or not _new_generation(step, message_id):
        return []
    problems = _check_new_record(message_id, record, step.request.content, step.before.now)
    if (
        step.request_id
        and not step.disturbance.raced
        and record.get("requestId") != (step.request_id)
    ):  # under a race, a competing invocation may have created it, with its own id
        problems.append(
            f"record {message_id}: requestId is {record.get('requestId')!r}, "
            f"the request's is {step.request_id!r}"
        )
    if message_id in step.replaceable:  # a race expired it after creation: the ttl is the race's
        problems = [problem for problem in problems if ": ttl " not in problem]
    return problems


def answers_are_allowed(step: Step, memory: Memory) -> list[str]:
    """The answer is one the contract allows for this request, stored state and disturbance."""
    if step.request is None or step.answer is None:
        return []
    permitted = allowed(step.request, step.before, step.stored_content, step.disturbance)
    got = outcome_of(step.answer)
    if got in permitted:
        return []
    options = " or ".join(sorted(outcome.describe() for outcome in permitted))
    return [f"answered {got.describe()}, expected {options}"]


def accepted_requests_are_queued(step: Step, memory: Memory) -> list[str]:
    """A 2xx to a submission names a record that is QUEUED or later, whose queued body is exactly
    what was submitted, and reports the record's status; a 2xx to a lookup shows the record."""
    if step.answer is None or not step.answer.ok:
        return []
    body = step.answer.body if isinstance(step.answer.body, dict) else {}
    if isinstance(step.request, Lookup):
        return _lookup_shows_record(step, body)
    if not isinstance(step.request, Submission):
        return []
    request, problems = step.request, []
    if body.get("messageId") != request.message_id:
        problems.append(
            f"answer names messageId {body.get('messageId')!r}, expected {request.message_id}"
        )
    status = step.after.status(request.message_id)
    if not lifecycle.at_least_queued(status):
        problems.append(
            f"answered {step.answer.status} but record {request.message_id} is {status}"
        )
    elif body.get("status") != status:
        problems.append(f"answer says status {body.get('status')!r} but the record is {status}")
    if not any(
        queued_body_matches(m.body, request) for m in step.after.messages_for(request.message_id)
    ):
        problems.append(f"no queue message for {request.message_id} carries the submitted content")
    return problems


def queued_body_matches(body: dict[str, Any] | None, request: Submission) -> bool:
    if body is None:
        return False
    attributes = body.get("attributes") or {}
    return (
        body.get("type") == request.content.type
        and _canonical_or_none(body.get("payload")) == request.content.payload_json
        and attributes == request.content.attribute_map
    )


def _canonical_or_none(value: Any) -> str | None:
    """Canonical text, so 1, 1.0 and true stay different (Python's == says they are equal)."""
    try:
        return canonical(value)
    except (TypeError, ValueError):
        return None


PUBLIC_VIEW = frozenset({"messageId", "type", "status", "createdAt", "updatedAt", "queuedAt"})


def _lookup_shows_record(step: Step, body: Mapping[str, Any]) -> list[str]:
    assert isinstance(step.request, Lookup)
    record = step.before.record(step.request.message_id) or {}
    problems = [
        f"GET shows {field}={body.get(field)!r}, the record has {record.get(field)!r}"
        for field in sorted(PUBLIC_VIEW)
        if body.get(field) != record.get(field)
    ]
    private = sorted(set(body) - PUBLIC_VIEW)
    if private:
        problems.append(f"GET shows {private}; the public view is id, type, status, timestamps")
    return problems


def sqs_failure_rolls_back(step: Step, memory: Memory) -> list[str]:
    """After an error answer caused by SQS alone, the record is PENDING (fields intact: see
    ``metadata_never_changes``), so that a retry of the same request completes."""
    answer, request = step.answer, step.request
    if not isinstance(request, Submission) or answer is None or answer.ok or answer.crashed:
        return []
    operations = {operation for operation, _ in step.injected}
    if step.disturbance.raced or not operations or operations != {"sqs.SendMessage"}:
        return []
    if answer.code != "SYSTEM_ERROR":
        return []
    status = step.after.status(request.message_id)
    if status is not Status.PENDING:
        return [
            f"SendMessage failed and the answer was {answer.status}, "
            f"but the record is {status}, not PENDING"
        ]
    return []


def errors_are_documented_and_leak_nothing(step: Step, memory: Memory) -> list[str]:
    """Every error answer uses a documented code with its HTTP status, has exactly the documented
    shape, carries no internals (exception text, AWS codes, resource names), and a 503 says when
    to retry."""
    answer = step.answer
    if answer is None or answer.crashed or answer.ok:
        return []
    if not isinstance(answer.body, dict) or set(answer.body) != {"error"}:
        return [
            f"error answer {answer.status} is not {{'error': {{...}}}}: {answer.raw_body[:200]!r}"
        ]
    error, problems = answer.body["error"], []
    if not isinstance(error, dict):
        return [f"error answer {answer.status} has a non-object 'error': {error!r}"]
    code = error.get("code")
    expected_keys = {"code", "message", "requestId"} | (
        {"details"} if code == "VALIDATION_ERROR" else set()
    )
    if set(error) != expected_keys:
        problems.append(f"error body has keys {sorted(error)}, expected {sorted(expected_keys)}")
    if code not in ERROR_STATUSES:
        problems.append(f"undocumented error code {code!r}")
    elif answer.status not in ERROR_STATUSES[code]:
        problems.append(
            f"{code} came with HTTP {answer.status}, documented {sorted(ERROR_STATUSES[code])}"
        )
    if step.request_id and error.get("requestId") != step.request_id:
        problems.append(
            f"error body says requestId {error.get('requestId')!r}, the request's is "
            f"{step.request_id!r} (API Gateway's id, the one the caller can quote)"
        )
    text = json.dumps({k: v for k, v in error.items() if k != "details"})
    details = error.get("details")
    details = details if isinstance(details, list) else []
    problems += _detail_problems(details, step.body) if code == "VALIDATION_ERROR" else []
    # Field names echo the caller's own keys, so only the problem texts are the handler's words.
    searched = text + json.dumps([d.get("problem") for d in details if isinstance(d, dict)])
    leaks = LEAK_PATTERNS.findall(searched) + [
        secret for secret in memory.secrets if secret and secret in searched
    ]
    if leaks:
        problems.append(f"error body reveals internals {sorted(set(leaks))}: {text[:200]}")
    if answer.status == 503 and "retry-after" not in answer.headers:
        problems.append("503 answer without a Retry-After header")
    allow = step.request.allow if isinstance(step.request, Rejection) else None
    if answer.status == 405 and allow is not None:
        listed = {method.strip() for method in answer.headers.get("allow", "").split(",")}
        if listed != {allow}:
            problems.append(
                f"405 answer with Allow {answer.headers.get('allow')!r}: the path allows {allow}"
            )
    return problems


# What a VALIDATION_ERROR detail may name besides the body's own keys: the parts of a request.
REQUEST_PARTS = frozenset({"event", "body", "type", "payload", "messageId", "attributes"})
HEADER_PARTS = frozenset({"idempotency-key", "content-type"})


def _detail_problems(details: list[Any], body: str) -> list[str]:
    """Each detail is exactly ``{"field", "problem"}``, two non-empty texts, and its field names
    a part of the request: the event, the body, a header, or a field of the body (dotted paths
    such as ``attributes.tenant`` name it by their first part)."""
    if not details:
        return ["VALIDATION_ERROR without details"]
    try:
        document = json.loads(body)
    except (TypeError, ValueError):
        document = None
    keys = set(document) if isinstance(document, dict) else set()
    problems = []
    for detail in details:
        if not isinstance(detail, dict) or set(detail) != {"field", "problem"}:
            problems.append(f"detail {detail!r} is not exactly {{'field', 'problem'}}")
            continue
        field, problem = detail["field"], detail["problem"]
        if not isinstance(problem, str) or not problem.strip():
            problems.append(f"detail for {field!r} has no problem text: {problem!r}")
        if not isinstance(field, str) or not field:
            problems.append(f"detail field {field!r} is not a name")
            continue
        first = re.split(r"[.\[/]", field.removeprefix("body.").lstrip("/"))[0]
        if first not in REQUEST_PARTS | keys and field.lower() not in HEADER_PARTS:
            problems.append(f"detail field {field!r} names no part of the request")
    return problems


def refusals_write_nothing(step: Step, memory: Memory) -> list[str]:
    """An invalid request, a conflict, a duplicate replay and a lookup change no record and send
    nothing."""
    answer = step.answer
    refused = isinstance(step.request, Rejection | Lookup) or (
        answer is not None and answer.status in (200, 409) and isinstance(step.request, Submission)
    )
    if not refused or step.disturbance.raced:
        return []
    problems = []
    if len(step.after.messages) != len(step.before.messages):
        problems.append(f"{len(step.after.messages) - len(step.before.messages)} message(s) sent")
    if dict(step.after.records) != dict(step.before.records):
        changed = sorted(
            key
            for key in set(step.after.records) | set(step.before.records)
            if step.after.records.get(key) != step.before.records.get(key)
        )
        problems.append(f"records changed: {changed}")
    return [f"{answer.describe() if answer else 'the request'} but {p}" for p in problems]


def logs_carry_no_payload(step: Step, memory: Memory) -> list[str]:
    """No log line shows a payload: neither a generated payload's canary value nor the body as
    sent (payloads and attributes may be personal data; logs keep ids, types and outcomes)."""
    shown = [
        line for line in step.logs if CANARY in line or (len(step.body) >= 32 and step.body in line)
    ]
    return [
        f"the handler logged payload content: "
        f"{around(line, CANARY if CANARY in line else step.body)!r}"
        for line in shown[:3]
    ]


Invariant = Callable[[Step, Memory], list[str]]
INVARIANTS: tuple[Invariant, ...] = (
    # The most specific claims first, so a failure names the rule closest to the bug;
    # answers_are_allowed, the broadest, comes last.
    errors_are_documented_and_leak_nothing,
    logs_carry_no_payload,
    sqs_failure_rolls_back,
    statuses_only_move_forward,
    metadata_never_changes,
    queued_records_were_sent,
    one_message_per_id_unless_disturbed,
    queue_messages_have_records,
    stored_records_match_submissions,
    refusals_write_nothing,
    accepted_requests_are_queued,
    answers_are_allowed,
)


def violations(step: Step, memory: Memory) -> list[tuple[str, str]]:
    """Every broken invariant of a step, as (invariant name, what broke)."""
    return [(check.__name__, problem) for check in INVARIANTS for problem in check(step, memory)]


def remember(step: Step, memory: Memory) -> None:
    """Update the memory with what the step established (call after checking it)."""
    request = step.request
    if step.injected and isinstance(request, Submission):
        memory.uncertain.add(request.message_id)
    vanishing = any(kind == "race:record_vanishes" for _, kind in step.injected)
    if isinstance(request, Submission) and vanishing:
        memory.vanished.add(request.message_id)
    if isinstance(request, Submission):
        message_id = request.message_id
        if step.after.record(message_id) is None:
            memory.contents.pop(message_id, None)
        elif _new_generation(step, message_id) or message_id not in memory.contents:
            memory.contents[message_id] = request.content
