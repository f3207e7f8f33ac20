"""The answers a correct handler may give (``outcomes.allowed``), with and without disturbance."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle.build import NOW, ORDER, OTHER, accepted, answer, error, record, snapshot

from model.core.contract import Content, Lookup, Rejection, Submission
from model.core.observed import Snapshot
from model.core.outcomes import CRASH, Disturbance, Outcome, allowed, outcome_of
from model.core.plans import FaultKind, RaceKind

NEW = Outcome(202, None, False)
DUPLICATE = Outcome(200, None, True)
CONFLICT = Outcome(409, "IDEMPOTENCY_CONFLICT")
FOUND = Outcome(200)
NOT_FOUND = Outcome(404, "NOT_FOUND")
UNAVAILABLE = Outcome(503, "SYSTEM_ERROR")
BROKEN = Outcome(500, "SYSTEM_ERROR")
CRASHED = Outcome(None, CRASH)
CALM = Disturbance()
RACED = Disturbance(races=frozenset({RaceKind.CONSUMER_ADVANCES}))
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
        Submission("m-1", Content("order.created", '{"amount":12,"orderId":"o-1"}', ())),
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
        Disturbance(frozenset({FaultKind.CRASH}), frozenset({RaceKind.COMPETING_INVOCATION})),
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
    ],
    ids=["new", "PENDING", "QUEUED"],
)
@pytest.mark.parametrize(
    ("race", "added"),
    [
        # another actor finished the request, or moved the record on: success either way
        (RaceKind.CONSUMER_ADVANCES, {NEW, DUPLICATE}),
        (RaceKind.COMPETING_INVOCATION, {NEW, DUPLICATE}),
        # the ttl passed: the PutItem may replace the record, the update still finds it
        (RaceKind.RECORD_EXPIRES, {NEW}),
        # deleted: the PutItem creates it anew, or the update finds nothing and says retry
        (RaceKind.RECORD_VANISHES, {NEW, UNAVAILABLE}),
    ],
)
def test_each_race_allows_exactly_what_the_contract_says(
    before: Snapshot, stored: Content | None, calm: Outcome, race: RaceKind, added: set[Outcome]
) -> None:
    """A race adds only the answers its actor can cause; none of them is a 500, and only a
    deleted record makes a 503 correct."""
    expected = frozenset({calm, *added})
    assert expected == allowed(SUBMIT, before, stored, Disturbance(races=frozenset({race})))


@pytest.mark.parametrize(
    ("race", "expected"),
    [
        (RaceKind.CONSUMER_ADVANCES, {CONFLICT}),
        (RaceKind.COMPETING_INVOCATION, {CONFLICT}),
        (RaceKind.RECORD_EXPIRES, {CONFLICT, NEW}),
        (RaceKind.RECORD_VANISHES, {CONFLICT, NEW, UNAVAILABLE}),
    ],
)
def test_a_race_excuses_a_conflict_only_if_the_record_may_be_replaced(
    race: RaceKind, expected: set[Outcome]
) -> None:
    """Other content under a stored id stays a conflict when a consumer or the same request
    acted; only an expiry or a deletion lets the new content be stored."""
    disturbance = Disturbance(races=frozenset({race}))
    assert frozenset(expected) == allowed(SUBMIT, holding("QUEUED", OTHER), OTHER, disturbance)


def test_a_replacing_race_frees_the_other_races_of_a_conflict() -> None:
    """The record expires and the same request, run by a competitor, stores its content anew:
    the interrupted invocation then finds a duplicate. With the expiry alone it could not."""
    both = Disturbance(races=frozenset({RaceKind.RECORD_EXPIRES, RaceKind.COMPETING_INVOCATION}))
    assert frozenset({CONFLICT, NEW, DUPLICATE}) == allowed(
        SUBMIT, holding("QUEUED", OTHER), OTHER, both
    )


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
        (
            (("dynamodb.UpdateItem", "race:consumer_advances"),),
            Disturbance(races=frozenset({RaceKind.CONSUMER_ADVANCES})),
        ),
        (
            (("dynamodb.PutItem", "race:record_expires"), ("sqs.SendMessage", "timeout")),
            Disturbance(frozenset({FaultKind.TIMEOUT}), frozenset({RaceKind.RECORD_EXPIRES})),
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


@given(st.sets(st.sampled_from(FaultKind)), st.sets(st.sampled_from(RaceKind)))
def test_disturbance_never_removes_the_calm_answer_unless_it_crashes(
    kinds: set[FaultKind], races: set[RaceKind]
) -> None:
    """A fault or race widens what is allowed; only a crash replaces the calm answer; a 500
    needs an AccessDenied, and a 503 a retryable fault or a deleted record."""
    disturbance = Disturbance(frozenset(kinds), frozenset(races))
    permitted = allowed(SUBMIT, EMPTY, None, disturbance)
    if FaultKind.CRASH in kinds:
        assert frozenset({CRASHED}) == permitted
        return
    assert NEW in permitted
    assert (BROKEN in permitted) == (FaultKind.ACCESS_DENIED in kinds)
    retryable = any(kind.retryable for kind in kinds)
    assert (UNAVAILABLE in permitted) == (retryable or RaceKind.RECORD_VANISHES in races)
