"""The Hypothesis state machine that runs a handler against moto next to the model.

Rules are the things that happen to an intake: submissions (new, repeated, conflicting,
invalid), lookups, faults and races planned into its AWS calls, consumers and other
writers touching records, and retries of what failed. After every step each invariant of
``model.core.invariants`` is checked on what was observed; a broken one fails the run with the
story of the steps that led there, which Hypothesis then shrinks.
"""

from __future__ import annotations

import collections
import json
import sys
import time
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn, Protocol, cast

import attrs
from hypothesis import strategies as st
from hypothesis.errors import StopTest
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from model.core import contract, invariants, lifecycle, linearize
from model.core.contract import Lookup, Submission
from model.core.events import Response, get_event, with_request_id
from model.core.invariants import Memory, Step
from model.core.observed import Answer, QueueMessage, Snapshot
from model.core.plans import Fault, Race, RaceKind, Switches
from model.harness import logcapture, rule_choice
from model.harness import strategies as strat
from model.harness.driver import Crashed, Driver, Handler
from model.harness.sandbox import QUEUE_NAME, Sandbox, start
from model.harness.scheduler import InterleavingStuck, Scheduler

STORY_LINES = 12


class Sendable(Protocol):
    """A request the harness can send: drawn by the strategies, or read from a scenario."""

    def event(self, request_id: str) -> dict[str, Any]: ...


# The invariants about how records change, checked on each stretch of an invocation that a
# race's actor interrupted (the request-level ones need the whole invocation).
CHANGE_INVARIANTS = (
    invariants.statuses_only_move_forward,
    invariants.metadata_never_changes,
    invariants.queued_records_were_sent,
)
# What each of two interleaved invocations must still keep on its own, before and after the
# two together are judged by ``linearize`` (which says more than whether a 2xx was queued).
EACH_INTERLEAVED = (
    invariants.errors_are_documented_and_leak_nothing,
    invariants.logs_carry_no_payload,
)
EACH_INTERLEAVED_AFTER = (invariants.accepted_requests_are_queued,)
SERIAL_CHECK = linearize.a_serial_order_explains_them.__name__


@attrs.define
class RunStats:
    """Counts across every example of a run, for the verify report and the benchmarks."""

    examples: int = 0
    steps: int = 0
    invocations: int = 0
    invariant_checks: int = 0
    injected: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    seconds_in_steps: float = 0.0
    submit_steps: int = 0
    seconds_in_submits: float = 0.0
    log_lines: int = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


STATS = RunStats()


@attrs.define
class LastFailure:
    """The story of the last failing run. Hypothesis replays the shrunk run last, so after a
    failed test this holds the minimal story: what ``--save-scenario`` writes out."""

    story: list[StoryStep] = attrs.Factory(list)
    invariant: str = ""
    problems: list[str] = attrs.Factory(list)


LAST_FAILURE = LastFailure()


def broken(invariant_name: str, problems: list[str], story: list[StoryStep]) -> NoReturn:
    """Keep the failing run for the report and ``--save-scenario``, and fail with its story:
    the broken invariant, what broke, and the last steps that led there."""
    LAST_FAILURE.story, LAST_FAILURE.invariant = list(story), invariant_name
    LAST_FAILURE.problems = list(problems)
    recent = story[-STORY_LINES:]
    lines = [f"  {i}. {step.text}" for i, step in enumerate(recent, len(story) - len(recent) + 1)]
    listed = "\n".join(f"  - {problem}" for problem in problems)
    raise AssertionError(
        f"invariant {invariant_name} broken:\n{listed}\nthe story so far:\n" + "\n".join(lines)
    )


@attrs.frozen
class StoryStep:
    """One line of a run's story, kept structured so it can also become a scenario file."""

    action: str
    detail: dict[str, Any]
    text: str


def _payload_of(record: Any) -> Any:
    try:
        return json.loads(record.get("payload", ""))
    except (TypeError, ValueError):
        return None


def request_id_of(event: dict[str, Any]) -> str:
    """API Gateway's id of the request, if the event has one."""
    context = event.get("requestContext")
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) else ""


def to_answer(result: Response | Crashed) -> Answer:
    if isinstance(result, Crashed):
        return Answer(None)
    return Answer(result.status, result.headers, result.body, result.raw_body)


# How many times as often as the others each of these rules is drawn. Each disturbs the very
# invocation it runs (a fault, a race, a second invocation interleaved, another actor on a
# record in the bundle); a fault or race planned on its own waits for a later submission that
# may never reach the call (a duplicate, a cleared plan). Measured the same way before and
# after (5 seeds each, the ci profile without derandomize): consumer_race_as_failure and
# exists_condition_update first failed after about 4 s and reported after 9.4 and 9.7 s
# (medians); with the weights, after 1 to 2 s and 6.7 and 4.3 s. condition_failure_as_own,
# missed by 1 seed of 5 before, was caught by all 5.
RULE_WEIGHTS = {
    "submit_during_a_race": 3,
    "submit_while_a_call_fails": 2,
    "interleave_two_invocations": 2,
    "another_actor_acts": 2,
}


class IntakeMachine(RuleBasedStateMachine):
    """A handler and the model side by side. Build one per handler with ``machine_for``."""

    handler: ClassVar[Handler]
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        rule_choice.install(self, RULE_WEIGHTS)  # see model/harness/rule_choice.py
        self.sandbox: Sandbox = start()
        self.sandbox.reset()
        self.driver = Driver(cast(Handler, self.handler), self.sandbox)
        self.memory = Memory(secrets=(self.sandbox.table_name, self.sandbox.queue_url, QUEUE_NAME))
        self.snapshot = self.observe()
        self.unfinished: dict[str, dict[str, Any]] = {}
        """Submissions that failed or got no answer, by "id (fingerprint)", for liveness."""
        self.story: list[StoryStep] = []
        self.last_step: Step | None = None
        self.current: tuple[dict[str, Any], str] | None = None
        self.mark: Snapshot = self.snapshot
        """Inside an invocation: the last observation, where the handler's next change starts."""
        self.inside: list[str] = []
        self.held: tuple[str, list[str]] | None = None
        """A failure found inside the handler's AWS call, raised once the handler returns:
        raised in there, it would reach the handler, which might swallow it."""
        self.replaceable: set[str] = set()
        self.failed = False
        STATS.examples += 1

    # -- observing and checking -------------------------------------------------------

    def observe(self) -> Snapshot:
        messages = tuple(QueueMessage(body, attrs_) for body, attrs_ in self.sandbox.messages())
        return Snapshot(self.sandbox.items(), messages, int(time.time()))

    def tell(self, action: str, text: str, **detail: Any) -> None:
        self.story.append(StoryStep(action, detail, text))

    def fail(self, invariant_name: str, problems: list[str]) -> None:
        self.failed = True
        broken(invariant_name, problems, self.story)

    def hold(self, check: invariants.Invariant) -> None:
        STATS.invariant_checks += 1
        if self.last_step is not None:
            problems = check(self.last_step, self.memory)
            if problems:
                self.fail(check.__name__, problems)

    def take_held(self) -> tuple[str, list[str]] | None:
        held, self.held = self.held, None
        return held

    def fail_after_call(self, invariant_name: str, problems: list[str]) -> None:
        if self.held is None:
            self.held = (invariant_name, problems)

    def hold_changes(
        self, before: Snapshot, after: Snapshot, when: str, *, inside: bool = False
    ) -> None:
        """The invariants about changes, on one stretch of an invocation: what the handler did
        before a race's actor acted, or after. Seen from the step's two ends alone, a status the
        handler dragged back after a consumer moved it on would look like progress."""
        stretch = Step(before, after, replaceable=frozenset(self.replaceable))
        for check in CHANGE_INVARIANTS:
            STATS.invariant_checks += 1
            problems = check(stretch, self.memory)
            if problems:
                report = self.fail_after_call if inside else self.fail
                report(f"{check.__name__} ({when})", problems)

    def invoke(self, event: dict[str, Any], label: str) -> Answer:
        """One invocation as a step: run it, observe, remember; invariants run after the rule."""
        request = contract.judge(event)
        message_id = request.message_id if isinstance(request, Submission | Lookup) else ""
        before = self.snapshot
        stored = None
        if isinstance(request, Submission) and before.live(message_id):
            stored = self.memory.contents.get(message_id)
        mark = len(self.sandbox.injector.attempts)
        self.current, self.replaceable = (event, message_id), set()
        self.mark, self.inside, self.held = before, [], None
        started = time.perf_counter()
        with logcapture.captured() as logs:
            answer = self.call_handler(event, label)
        elapsed = time.perf_counter() - started
        STATS.log_lines += len(logs)
        self.current = None
        attempts = self.sandbox.injector.attempts[mark:]
        injected = tuple((a.operation, a.outcome) for a in attempts if a.outcome != "passed")
        after = self.observe()
        if self.mark is not before:  # a race ran inside: the handler's last stretch on its own
            self.hold_changes(self.mark, after, "after the race")
        step = Step(
            before,
            after,
            request,
            answer,
            injected,
            frozenset(self.replaceable),
            stored,
            tuple(logs),
            str(event.get("body") or ""),
            request_id_of(event),
        )
        STATS.invocations += 1
        STATS.injected.update(injected)
        if isinstance(request, Submission):
            STATS.submit_steps += 1
            STATS.seconds_in_submits += elapsed
        calls = (
            ", ".join(f"{a.operation}#{a.attempt}:{a.outcome}" for a in attempts) or "no AWS call"
        )
        inside = "".join(f"; inside it, {note}" for note in self.inside)
        self.tell(
            "invoke",
            f"{label} -> {answer.describe()}  [{calls}]{inside}",
            event=event,
            status=answer.status,
            code=answer.code,
            record=after.status(message_id) if message_id else None,
            messages=len(after.messages_for(message_id)) if message_id else None,
        )
        held = self.take_held()
        if held is not None:
            self.fail(*held)
        invariants.remember(step, self.memory)
        self.last_step, self.snapshot = step, after
        if isinstance(request, Submission):
            key = f"{message_id} ({request.content.fingerprint()[:8]})"
            if answer.ok or answer.status == 409:
                self.unfinished.pop(key, None)
            else:
                self.unfinished[key] = event
        return answer

    def call_handler(self, event: dict[str, Any], label: str, *, inside: bool = False) -> Answer:
        """The handler's answer; raising, or answering something that is not a proxy response,
        is itself a broken rule (API Gateway would answer 502 and log nothing useful)."""
        try:
            return to_answer(self.driver.invoke(event))
        except Exception as exc:  # the handler's own exception, whatever it is
            problem = [f"{label}: {type(exc).__name__}: {exc}"]
            if inside:
                self.fail_after_call("handler_always_answers", problem)
                return Answer(None)
            self.tell("invoke", f"{label} -> raised {type(exc).__name__}: {exc}", event=event)
            self.fail("handler_always_answers", problem)
            raise  # unreachable: fail() raises

    def again(self, event: dict[str, Any]) -> dict[str, Any]:
        """The same request sent again (a retry, a competing invocation): a new request id."""
        return with_request_id(event, self.driver.next_request_id())

    def quiet_step(self, text: str, action: str, **detail: Any) -> None:
        """A step by another actor: re-observe, so its writes are not blamed on the handler."""
        self.snapshot = self.observe()
        self.last_step = None
        self.tell(action, text, **detail)

    # -- submissions ------------------------------------------------------------------

    def send(self, request: strat.SubmitRequest, label: str) -> Answer:
        return self.invoke(request.event(self.driver.next_request_id()), label)

    @rule(target=requests, request=strat.submit_requests())
    def submit_new_message(self, request: strat.SubmitRequest) -> strat.SubmitRequest:
        self.send(request, f"submit {request!r}")
        return request

    @rule(request=requests)
    def resubmit_seen_message(self, request: strat.SubmitRequest) -> None:
        self.send(request, f"resubmit {request!r}")

    @rule(target=requests, request=requests, payload=strat.payloads)
    def submit_conflicting_payload(
        self, request: strat.SubmitRequest, payload: dict[str, Any]
    ) -> strat.SubmitRequest:
        changed = request.with_payload({**payload, "conflict": True})
        self.send(changed, f"submit other content under the same id {changed!r}")
        return changed

    @rule(case=strat.invalid_events)
    def submit_invalid_request(self, case: tuple[str, dict[str, Any]]) -> None:
        name, event = case
        self.invoke(event, f"send an invalid request ({name})")

    @rule(request=requests, fault=strat.lookup_faults)
    def read_record(self, request: strat.SubmitRequest, fault: Fault | None = None) -> None:
        """GET the record; sometimes while its one read fails (once, or for good)."""
        if fault is not None:
            self.plan_fault(fault)
        message_id = self.id_of(request)
        self.invoke(
            get_event(message_id, request_id=self.driver.next_request_id()),
            f"GET /messages/{message_id}",
        )

    @precondition(lambda self: bool(self.unfinished))
    @rule(data=st.data())
    def retry_unfinished_request(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.unfinished)), label="retry")
        self.invoke(self.again(self.unfinished[key]), f"retry the unfinished request for {key}")

    @staticmethod
    def id_of(request: strat.SubmitRequest) -> str:
        judged = contract.judge(request.event("id"))
        assert isinstance(judged, Submission)
        return judged.message_id

    # -- faults and races ---------------------------------------------------------------

    @rule(fault=strat.faults)
    def plan_fault(self, fault: Fault) -> None:
        self.sandbox.injector.plan(fault)
        self.quiet_step(f"plan {fault.describe()}", "fault", fault=fault)

    @rule(race=strat.races)
    def plan_race(self, race: Race) -> None:
        self.sandbox.injector.plan_race(race, lambda: self.run_race(race.kind))
        self.quiet_step(f"plan a race: {race.describe()}", "race", race=race)

    @rule(target=requests, request=strat.submit_requests(), fault=strat.submit_faults)
    def submit_while_a_call_fails(
        self, request: strat.SubmitRequest, fault: Fault
    ) -> strat.SubmitRequest:
        self.plan_fault(fault)
        self.send(request, f"submit {request!r}")
        return request

    @rule(target=requests, request=strat.submit_requests(), race=strat.races)
    def submit_during_a_race(self, request: strat.SubmitRequest, race: Race) -> strat.SubmitRequest:
        self.plan_race(race)
        self.send(request, f"submit {request!r}")
        return request

    @rule()
    def clear_faults(self) -> None:
        self.sandbox.injector.clear()
        self.quiet_step("clear all faults and races", "clear")

    def run_race(self, kind: RaceKind) -> None:
        """Act as another actor, inside the handler's call (injection is paused here). What the
        handler did so far, and what the actor did, are observed and checked on their own."""
        if self.current is None:
            return
        event, message_id = self.current
        now = self.observe()
        self.hold_changes(self.mark, now, f"before the race {kind}", inside=True)
        if kind is RaceKind.COMPETING_INVOCATION:
            self.memory.uncertain.add(message_id)
            self.compete(event, message_id, now)
        elif kind is RaceKind.CONSUMER_ADVANCES:
            old = now.status(message_id)
            moved = self.advance(message_id, lifecycle.Status.PROCESSING)
            self.inside.append(
                f"a consumer moved {message_id} from {old} to PROCESSING"
                if moved
                else "a consumer found nothing to do"
            )
        else:
            self.replaceable.add(message_id)
            self.memory.uncertain.add(message_id)
            if kind is RaceKind.RECORD_EXPIRES:
                if self.expire(message_id):
                    self.inside.append(f"record {message_id} expired")
            else:
                self.memory.vanished.add(message_id)
                self.delete_record(message_id)
                self.inside.append(f"record {message_id} was deleted")
        self.mark = self.observe()

    def compete(self, event: dict[str, Any], message_id: str, now: Snapshot) -> None:
        """A second invocation of the same request runs to completion, calm (faults never touch
        it), and is judged as a step of its own."""
        competing = self.again(event)
        answer = self.call_handler(competing, "a competing invocation", inside=True)
        request = contract.judge(competing)
        stored = self.memory.contents.get(message_id) if now.live(message_id) else None
        record = now.record(message_id) or {}
        if isinstance(request, Submission) and record.get("payloadHash") == (
            request.content.fingerprint()
        ):  # the interrupted invocation stored this request's content (replacing an expired one)
            stored = request.content
        step = Step(now, self.observe(), request, answer, (), frozenset(self.replaceable), stored)
        self.inside.append(f"a competing invocation of the same request -> {answer.describe()}")
        for check in invariants.INVARIANTS:
            STATS.invariant_checks += 1
            problems = check(step, self.memory)
            if problems:
                self.fail_after_call(f"{check.__name__} (in the competing invocation)", problems)

    # -- two invocations interleaved ----------------------------------------------------

    @rule(target=requests, request=strat.submit_requests(), twin=strat.twins, at=strat.switches)
    def interleave_two_invocations(
        self, request: strat.SubmitRequest, twin: str, at: Switches
    ) -> strat.SubmitRequest:
        """Two invocations of one id, switching at drawn AWS calls; the same request twice, or
        other content under the same id. Some serial order must explain what they did."""
        second = request
        if twin != strat.TWINS[0]:  # under the id the first has, even one derived from content
            second = attrs.evolve(
                request.with_payload({**request.payload, "twin": True}),
                message_id=self.id_of(request),
                id_in="body" if request.id_in == "content" else request.id_in,
            )
        self.interleave(request, second, at, twin)
        return request

    def interleave(self, first: Sendable, second: Sendable, at: Switches, twin: str) -> None:
        """Run both under the scheduler, calm (planned faults and races wait for later steps),
        check each stretch between switches, then the pair as a history."""
        events = [
            first.event(self.driver.next_request_id()),
            second.event(self.driver.next_request_id()),
        ]
        judged = [contract.judge(event) for event in events]
        requests = [request for request in judged if isinstance(request, Submission)]
        assert len(requests) == 2, judged  # the strategies draw valid submissions only
        message_id = requests[0].message_id
        before = self.snapshot
        stored = self.memory.contents.get(message_id) if before.live(message_id) else None
        injector = self.sandbox.injector
        planned = injector.faults, injector.races
        injector.faults, injector.races = [], []
        self.mark, self.inside, self.held, self.replaceable = before, [], None, set()

        def switched(who: int, operation: str) -> None:
            now = self.observe()
            self.hold_changes(self.mark, now, f"{'AB'[who]} up to {operation}", inside=True)
            self.mark = now

        scheduler = Scheduler(at, switched)
        injector.scheduler = scheduler.at_call
        try:
            with logcapture.captured() as logs:
                answers = scheduler.run(
                    lambda: self.call_handler(events[0], "invocation A", inside=True),
                    lambda: self.call_handler(events[1], "invocation B", inside=True),
                )
        except InterleavingStuck as stuck:  # the handler waits on something of its own
            self.tell("interleave", f"interleave A and B, {at.describe()}: {stuck}")
            self.fail("handler_always_answers", [f"two interleaved invocations: {stuck}"])
        finally:
            injector.scheduler = None
            injector.faults, injector.races = planned
        STATS.log_lines += len(logs)
        STATS.invocations += 2
        after = self.observe()
        self.hold_changes(self.mark, after, "after the last switch", inside=True)
        self.tell(
            "interleave",
            f"interleave A {first!r} with B ({twin}) {second!r}, {at.describe()}: "
            f"A -> {answers[0].describe()}, B -> {answers[1].describe()}  "
            f"[{', '.join(scheduler.calls) or 'no AWS call'}]; "
            f"record {after.status(message_id)}, "
            f"{len(after.messages_for(message_id))} message(s) for the id",
            events=events,
            switches=at,
        )
        held = self.take_held()
        if held is not None:
            self.fail(*held)
        steps = [
            Step(
                before,
                after,
                request,
                answer,
                logs=tuple(logs),
                body=str(event["body"]),
                request_id=request_id_of(event),
            )
            for request, answer, event in zip(requests, answers, events, strict=True)
        ]
        self.hold_each(steps, EACH_INTERLEAVED)
        history = [
            linearize.Invocation(name, request, answer)
            for name, request, answer in zip("AB", requests, answers, strict=True)
        ]
        STATS.invariant_checks += 1
        problems = linearize.a_serial_order_explains_them(
            message_id, before, stored, history, after
        )
        if problems:
            self.fail(SERIAL_CHECK, problems)
        self.hold_each(steps, EACH_INTERLEAVED_AFTER)
        self.settle_pair(
            message_id, list(zip(requests, answers, events, strict=True)), before, after
        )

    def hold_each(self, steps: list[Step], checks: tuple[invariants.Invariant, ...]) -> None:
        for step in steps:
            for check in checks:
                STATS.invariant_checks += 1
                problems = check(step, self.memory)
                if problems:
                    self.fail(check.__name__, problems)

    def settle_pair(
        self,
        message_id: str,
        pair: list[tuple[Submission, Answer, dict[str, Any]]],
        before: Snapshot,
        after: Snapshot,
    ) -> None:
        """Remember what the pair established: the record's content, and that at-least-once
        delivery may have queued the message twice; the whole pair is then one step."""
        record = after.record(message_id)
        if record is None:
            self.memory.contents.pop(message_id, None)
        else:
            for request, _, _ in pair:
                if request.content.fingerprint() == record.get("payloadHash"):
                    self.memory.contents[message_id] = request.content
        if len(after.messages_for(message_id)) - len(before.messages_for(message_id)) > 1:
            self.memory.uncertain.add(message_id)
        for request, answer, event in pair:
            key = f"{message_id} ({request.content.fingerprint()[:8]})"
            if answer.ok or answer.status == 409:
                self.unfinished.pop(key, None)
            else:
                self.unfinished[key] = event
        self.last_step, self.snapshot = Step(before, after), after

    # -- other actors -------------------------------------------------------------------

    def admin(self, service: str) -> Any:
        return self.sandbox.admin(service)

    def update_record(self, message_id: str, **update: Any) -> None:
        """Another actor's UpdateItem on one record; planned faults never touch it."""
        with self.sandbox.injector.pause():
            self.admin("dynamodb").update_item(
                TableName=self.sandbox.table_name, Key={"messageId": {"S": message_id}}, **update
            )

    def delete_record(self, message_id: str) -> None:
        """Another actor's DeleteItem of one record; planned faults never touch it."""
        with self.sandbox.injector.pause():
            self.admin("dynamodb").delete_item(
                TableName=self.sandbox.table_name, Key={"messageId": {"S": message_id}}
            )

    def advance(self, message_id: str, status: lifecycle.Status) -> bool:
        """A consumer's conditional transition; only for a message it could have received."""
        current = self.observe()
        old, record = current.status(message_id), current.record(message_id) or {}
        sent_for_this_record = any(
            message.body is not None
            and message.body.get("type") == record.get("type")
            and message.body.get("payload") == _payload_of(record)
            for message in current.messages_for(message_id)
        )  # a message left by an expired, replaced record is not this record's
        if old is None or status not in lifecycle.TRANSITIONS[old] or not sent_for_this_record:
            return False
        self.update_record(
            message_id,
            UpdateExpression="SET #s = :new, updatedAt = :now, #v = #v + :one",
            ConditionExpression="#s = :old",
            ExpressionAttributeNames={"#s": "status", "#v": "version"},
            ExpressionAttributeValues={
                ":new": {"S": status},
                ":old": {"S": old},
                ":one": {"N": "1"},
                ":now": {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
            },
        )
        return True

    def expire(self, message_id: str) -> bool:
        if message_id not in self.observe().records:
            return False
        self.update_record(
            message_id,
            UpdateExpression="SET #t = :past",
            ExpressionAttributeNames={"#t": "ttl"},
            ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 3600)}},
        )
        return True

    @rule(request=requests, actor=strat.other_actors)
    def another_actor_acts(self, request: strat.SubmitRequest, actor: str) -> None:
        """A consumer moves the record on, another writer adds an attribute, or it expires."""
        message_id = self.id_of(request)
        if actor == "consumer moves on":
            done = self.advance(message_id, lifecycle.Status.PROCESSING) or self.advance(
                message_id, lifecycle.Status.DELIVERED
            )
        elif actor == "another writer annotates":
            done = self.annotate(message_id)
        else:
            done = self.expire(message_id)
            if done:  # a replacement is a new record: its message comes on top of the old one's
                self.memory.uncertain.add(message_id)
        outcome = "" if done else " (nothing to do)"
        self.quiet_step(
            f"{actor}: {message_id}{outcome}", "actor", actor=actor, message_id=message_id
        )

    def annotate(self, message_id: str) -> bool:
        if message_id not in self.snapshot.records:
            return False
        self.update_record(
            message_id,
            UpdateExpression="SET note = :note",
            ExpressionAttributeValues={
                ":note": {"S": f"added by another writer at step {len(self.story)}"}
            },
        )
        return True

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def model_invariants_hold(self) -> None:
        """Every predicate of ``model.core.invariants.INVARIANTS`` on the last step; a failure names
        the broken one. (One Hypothesis invariant keeps the printed falsifying run short.)"""
        for check in invariants.INVARIANTS:
            self.hold(check)

    # -- the end of a run: liveness -----------------------------------------------------

    def teardown(self) -> None:
        STATS.steps += len(self.story)
        if self.failed or isinstance(sys.exc_info()[1], StopTest):
            # Failed, or cut short: Hypothesis discards a run that ran out of choices (as most
            # of the shrinker's attempts do), so liveness would only cost time (a tenth of it
            # when shrinking).
            return
        self.sandbox.injector.clear()
        self.tell("clear", "faults stop")
        for _ in range(3):
            for key in sorted(self.unfinished):
                event = self.again(self.unfinished[key])
                self.invoke(event, f"liveness: retry the unfinished request for {key}")
                self.model_invariants_hold()
        stuck = sorted(self.unfinished)
        pending = sorted(
            message_id
            for message_id in self.snapshot.records
            if self.snapshot.live(message_id)
            and self.snapshot.status(message_id) is lifecycle.Status.PENDING
        )
        problems = [f"once faults stopped, retries did not finish {key}" for key in stuck]
        problems += [f"once faults stopped, record {key} is still PENDING" for key in pending]
        if problems:
            self.fail("liveness", problems)


def machine_for(handler: Handler, name: str = "IntakeMachine") -> type[IntakeMachine]:
    """A state machine class that verifies ``handler``."""
    return type(name, (IntakeMachine,), {"handler": staticmethod(handler)})


Runner = Callable[[], None]
