"""The answers a correct handler may give (``outcomes.allowed``), with and without disturbance."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle.build import NOW, ORDER, OTHER, accepted, answer, error, record, snapshot

from model.contract import Content, Lookup, Rejection, Submission
from model.observed import Snapshot
from model.outcomes import CRASH, Disturbance, Outcome, allowed, outcome_of
from model.plans import FaultKind

NEW = Outcome(202, None, False)
DUPLICATE = Outcome(200, None, True)
CONFLICT = Outcome(409, "IDEMPOTENCY_CONFLICT")
FOUND = Outcome(200)
NOT_FOUND = Outcome(404, "NOT_FOUND")
UNAVAILABLE = Outcome(503, "SYSTEM_ERROR")
BROKEN = Outcome(500, "SYSTEM_ERROR")
CRASHED = Outcome(None, CRASH)
CALM = Disturbance()
RACED = Disturbance(raced=True)
RETRYABLE = [kind for kind in FaultKind if kind not in (FaultKind.ACCESS_DENIED, FaultKind.CRASH)]

SUBMIT = Submission("m-1", ORDER)
LOOKUP = Lookup("m-1")
EMPTY = snapshot()


def holding(status: str, content: Content = ORDER, *, expired: bool = False) -> Snapshot:
    """A store whose record m-1 holds ``content`` at ``status`` (past its ttl if ``expired``)."""
    ttl = NOW - 1 if expired else NOW + 3600
    return snapshot([record(content, "m-1", status, ttl=ttl)])


CALM_CASES = [
    pytest.param(SUBMIT, EMPTY, None, NEW, id="new id -> 202 duplicate=false"),
    pytest.param(SUBMIT, holding("PENDING"), ORDER, NEW, id="same content PENDING -> 202"),
    pytest.param(SUBMIT, holding("QUEUED"), ORDER, DUPLICATE, id="same content QUEUED -> 200"),
    pytest.param(SUBMIT, holding("PROCESSING"), ORDER, DUPLICATE, id="PROCESSING -> 200"),
    pytest.param(SUBMIT, holding("DELIVERED"), ORDER, DUPLICATE, id="DELIVERED -> 200"),
    pytest.param(SUBMIT, holding("FAILED"), ORDER, DUPLICATE, id="FAILED -> 200"),
    pytest.param(SUBMIT, holding("QUEUED", OTHER), OTHER, CONFLICT, id="other content -> 409"),
    pytest.param(SUBMIT, holding("PENDING", OTHER), OTHER, CONFLICT, id="other PENDING -> 409"),
    pytest.param(
        SUBMIT, holding("QUEUED", OTHER, expired=True), None, NEW, id="other content expired -> 202"
    ),
    pytest.param(
        SUBMIT, holding("QUEUED", ORDER, expired=True), None, NEW, id="same content expired -> 202"
    ),
    pytest.param(
        Submission("m-1", Content.of(ORDER.type, ORDER.payload, {})),
        holding("QUEUED"),
        ORDER,
        DUPLICATE,
        id="attributes {} equal absent ones",
    ),
    pytest.param(LOOKUP, holding("QUEUED"), None, FOUND, id="GET live -> 200"),
    pytest.param(LOOKUP, holding("PENDING"), None, FOUND, id="GET PENDING -> 200"),
    pytest.param(LOOKUP, EMPTY, None, NOT_FOUND, id="GET absent -> 404"),
    pytest.param(LOOKUP, holding("QUEUED", expired=True), None, NOT_FOUND, id="GET expired -> 404"),
    pytest.param(
        Rejection(400, "VALIDATION_ERROR"),
        holding("QUEUED"),
        None,
        Outcome(400, "VALIDATION_ERROR"),
        id="rejection -> its own answer",
    ),
    pytest.param(
        Rejection(413, "PAYLOAD_TOO_LARGE"), EMPTY, None, Outcome(413, "PAYLOAD_TOO_LARGE")
    ),
]


@pytest.mark.parametrize(("request_", "before", "stored", "expected"), CALM_CASES)
def test_a_calm_request_has_exactly_one_answer(
    request_: Submission | Lookup | Rejection,
    before: Snapshot,
    stored: Content | None,
    expected: Outcome,
) -> None:
    """Without faults or races, the stored state decides the one correct answer."""
    assert frozenset({expected}) == allowed(request_, before, stored, CALM)


@pytest.mark.parametrize("kind", RETRYABLE)
@pytest.mark.parametrize(
    ("request_", "before", "stored", "calm"),
    [
        (SUBMIT, EMPTY, None, NEW),
        (SUBMIT, holding("QUEUED"), ORDER, DUPLICATE),
        (SUBMIT, holding("QUEUED", OTHER), OTHER, CONFLICT),
        (LOOKUP, holding("QUEUED"), None, FOUND),
        (LOOKUP, EMPTY, None, NOT_FOUND),
    ],
    ids=["new", "replay", "conflict", "GET live", "GET absent"],
)
def test_a_retryable_fault_adds_503(
    kind: FaultKind,
    request_: Submission | Lookup,
    before: Snapshot,
    stored: Content | None,
    calm: Outcome,
) -> None:
    """A retryable fault may have been absorbed (the calm answer) or not (503 SYSTEM_ERROR)."""
    assert frozenset({calm, UNAVAILABLE}) == allowed(
        request_, before, stored, Disturbance(frozenset({kind}))
    )


@pytest.mark.parametrize(
    ("request_", "before", "stored", "calm"),
    [(SUBMIT, EMPTY, None, NEW), (LOOKUP, holding("QUEUED"), None, FOUND)],
    ids=["submit", "GET"],
)
def test_access_denied_adds_500(
    request_: Submission | Lookup, before: Snapshot, stored: Content | None, calm: Outcome
) -> None:
    """A non-retryable error may surface as 500 SYSTEM_ERROR, never as 503."""
    disturbance = Disturbance(frozenset({FaultKind.ACCESS_DENIED}))
    assert frozenset({calm, BROKEN}) == allowed(request_, before, stored, disturbance)


@pytest.mark.parametrize(
    "disturbance",
    [
        Disturbance(frozenset({FaultKind.CRASH})),
        Disturbance(frozenset({FaultKind.CRASH, FaultKind.THROTTLE})),
        Disturbance(frozenset({FaultKind.CRASH}), raced=True),
    ],
    ids=["crash", "crash and throttle", "crash and race"],
)
@pytest.mark.parametrize(
    ("request_", "before"),
    [(SUBMIT, EMPTY), (SUBMIT, holding("QUEUED")), (LOOKUP, EMPTY)],
    ids=["new", "replay", "GET"],
)
def test_a_crash_allows_only_no_answer(
    disturbance: Disturbance, request_: Submission | Lookup, before: Snapshot
) -> None:
    """An invocation that crashes at a call gives no answer, whatever else happened."""
    assert frozenset({CRASHED}) == allowed(request_, before, ORDER, disturbance)


@pytest.mark.parametrize(
    ("before", "stored", "calm"),
    [
        (EMPTY, None, NEW),
        (holding("PENDING"), ORDER, NEW),
        (holding("QUEUED"), ORDER, DUPLICATE),
        (holding("QUEUED", OTHER), OTHER, CONFLICT),
    ],
    ids=["new", "PENDING", "QUEUED", "conflict"],
)
def test_a_race_allows_both_success_answers_and_both_failures(
    before: Snapshot, stored: Content | None, calm: Outcome
) -> None:
    """Another actor may have finished the request first or moved the record on: 202 and 200
    are both correct, and so are 503 and 500."""
    expected = frozenset({calm, NEW, DUPLICATE, UNAVAILABLE, BROKEN})
    assert expected == allowed(SUBMIT, before, stored, RACED)


@pytest.mark.parametrize(
    "disturbance",
    [
        RACED,
        Disturbance(frozenset({FaultKind.CRASH})),
        Disturbance(frozenset({FaultKind.THROTTLE, FaultKind.ACCESS_DENIED})),
    ],
)
def test_a_rejection_is_answered_the_same_whatever_happens(disturbance: Disturbance) -> None:
    """An invalid request touches no AWS call, so no fault can change its answer."""
    rejection = Rejection(415, "UNSUPPORTED_MEDIA_TYPE")
    expected = frozenset({Outcome(415, "UNSUPPORTED_MEDIA_TYPE")})
    assert expected == allowed(rejection, EMPTY, None, disturbance)


def test_combined_faults_add_both_failures() -> None:
    """A throttle and an AccessDenied in one invocation allow 503 and 500 besides the calm one."""
    disturbance = Disturbance(frozenset({FaultKind.THROTTLE, FaultKind.ACCESS_DENIED}))
    assert frozenset({NEW, UNAVAILABLE, BROKEN}) == allowed(SUBMIT, EMPTY, None, disturbance)


@pytest.mark.parametrize(
    ("injected", "expected"),
    [
        ((), Disturbance()),
        ((("sqs.SendMessage", "throttle"),), Disturbance(frozenset({FaultKind.THROTTLE}))),
        (
            (("dynamodb.PutItem", "applied_lost"), ("sqs.SendMessage", "crash")),
            Disturbance(frozenset({FaultKind.APPLIED_LOST, FaultKind.CRASH})),
        ),
        ((("dynamodb.UpdateItem", "race:consumer_advances"),), Disturbance(raced=True)),
        (
            (("dynamodb.PutItem", "race:record_expires"), ("sqs.SendMessage", "timeout")),
            Disturbance(frozenset({FaultKind.TIMEOUT}), raced=True),
        ),
    ],
)
def test_disturbance_reads_the_injector_log(
    injected: tuple[tuple[str, str], ...], expected: Disturbance
) -> None:
    """Fault kinds and races are read from the (operation, outcome) pairs the injector logs."""
    assert expected == Disturbance.of(injected)
    assert (not injected) == Disturbance.of(injected).calm


@pytest.mark.parametrize(
    ("given_answer", "expected"),
    [
        (answer(None), CRASHED),
        (accepted(), NEW),
        (accepted(duplicate=True, http=200), DUPLICATE),
        (answer(200, {"messageId": "m-1", "status": "QUEUED"}), FOUND),
        (answer(202, {"duplicate": "no"}), Outcome(202)),
        (answer(202, "not an object"), Outcome(202)),
        (error(409, "IDEMPOTENCY_CONFLICT"), CONFLICT),
        (error(503, "SYSTEM_ERROR"), UNAVAILABLE),
        (answer(502, "Bad Gateway"), Outcome(502)),
    ],
)
def test_outcome_of_reduces_an_answer(given_answer: object, expected: Outcome) -> None:
    """An answer reduces to status, error code and (for successes) a boolean duplicate flag."""
    assert expected == outcome_of(given_answer)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (CRASHED, "no answer (crash)"),
        (NEW, "202 duplicate=false"),
        (DUPLICATE, "200 duplicate=true"),
        (FOUND, "200"),
        (CONFLICT, "409 IDEMPOTENCY_CONFLICT"),
    ],
)
def test_outcomes_describe_themselves(outcome: Outcome, expected: str) -> None:
    """Outcomes read plainly in a failure message."""
    assert expected == outcome.describe()


statuses = st.sampled_from(["PENDING", "QUEUED", "PROCESSING", "DELIVERED", "FAILED"])


@given(
    st.one_of(st.none(), statuses),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_calm_submissions_and_lookups_always_have_one_answer(
    status: str | None, expired: bool, same_content: bool, lookup: bool
) -> None:
    """Whatever the store holds, a calm request has exactly one correct answer."""
    content = ORDER if same_content else OTHER
    before = EMPTY if status is None else holding(status, content, expired=expired)
    stored = content if status is not None and not expired else None
    assert 1 == len(allowed(LOOKUP if lookup else SUBMIT, before, stored, CALM))


@given(st.sets(st.sampled_from(FaultKind)), st.booleans())
def test_disturbance_never_removes_the_calm_answer_unless_it_crashes(
    kinds: set[FaultKind], raced: bool
) -> None:
    """A fault or race widens what is allowed; only a crash replaces the calm answer."""
    disturbance = Disturbance(frozenset(kinds), raced)
    permitted = allowed(SUBMIT, EMPTY, None, disturbance)
    if FaultKind.CRASH in kinds:
        assert frozenset({CRASHED}) == permitted
    else:
        assert NEW in permitted
        assert (bool(kinds) or raced) == (len(permitted) > 1)
