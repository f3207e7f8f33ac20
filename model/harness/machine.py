"""The Hypothesis state machine that runs a handler next to the model.

One machine for every intake. Rules are the things that happen to an intake: submissions
(new, repeated, conflicting, invalid), lookups where the intake has them, faults and races
planned into its AWS calls, two invocations interleaved, consumers and other writers touching
records, and retries of what failed. What differs between intakes lives in their ``Intake``
(``model.harness.intake``): the requests they are sent, and the judge that reads what the
machine saw and holds it to its invariants (``model.harness.judges``): the generic ones for
any intake a pipeline file describes, the contract's for a handler written to it. After every
step each invariant is checked; a broken one fails the run with the story of the steps that
led there, which Hypothesis then shrinks.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NoReturn, cast

from hypothesis import strategies as st
from hypothesis.errors import StopTest
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from model.core.events import get_event
from model.core.generic import HANDLER, Invalid, Submit
from model.core.plans import Fault, Race, RaceKind, Switches
from model.core.sources import NotAnAnswer
from model.core.spec import Pipeline
from model.harness import interrupts, logcapture, rule_choice
from model.harness import strategies as strat
from model.harness.driver import Handler, LambdaContext
from model.harness.faults import Attempt, InvocationCrashed
from model.harness.intake import Intake, contract_intake, pipeline_intake
from model.harness.judges import (
    COMPETITOR,
    Crashed,
    Pair,
    Raised,
    Result,
    Returned,
    Seen,
    Stretch,
    request_id_of,
)
from model.harness.requests import again
from model.harness.runtimes.outside import HandlerError, NoAnswerError
from model.harness.sandbox import QUEUE_NAME, Sandbox, start
from model.harness.scheduler import InterleavingStuck, Scheduler
from model.harness.story import LAST_FAILURE, STATS, StoryStep, broken
from model.report.trace import ACTIONS as TRACE_ACTIONS
from model.report.trace import Call, Mark
from model.report.trace import Invocation as TraceInvocation
from model.report.trace import Step as TraceStep

__all__ = [
    "LAST_FAILURE",
    "STATS",
    "IntakeMachine",
    "StoryStep",
    "machine_for",
    "machine_for_pipeline",
]

ANNOTATION = "queuecheckNote"
"""The attribute another writer adds to a record: no intake may drop or change it."""

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
    """A handler and the model side by side. Build one per intake with ``machine_for``."""

    intake: ClassVar[Intake]
    ignored: ClassVar[frozenset[str]] = frozenset()
    """Invariants this machine does not hold the handler to: those an earlier run of the same
    report already found broken, so that the next run finds the next bug and shrinks it on
    its own (``queuecheck-verify`` reports every bug it can, one run each)."""
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        rule_choice.install(self, RULE_WEIGHTS)  # see model/harness/rule_choice.py
        intake = self.intake
        self.judge = intake.judge
        self.space = intake.requests
        self.sandbox: Sandbox = start()
        self.sandbox.reset(self.judge.layout())
        fresh = getattr(intake.handler, "fresh", None)
        if fresh is not None:  # a handler in another process: a process never invoked
            fresh()
        secrets = (self.sandbox.table_name, self.sandbox.queue_url, QUEUE_NAME)
        self.memory: Any = self.judge.memory((*secrets, self.sandbox.layout.queue_name))
        self.state: Any = self.observe()
        self.unfinished: dict[str, tuple[Any, Submit | Invalid | None]] = {}
        """Submissions that failed or got no answer, by "id (content)", for liveness."""
        self.story: list[StoryStep] = []
        self.last: tuple[Seen, Any] | None = None
        """The last invocation and the judge's step, until the invariants have run on it."""
        self.ids = iter(range(1, 1_000_000))
        self.current: tuple[Any, Any] | None = None
        """Inside an invocation: its event and the judge's reading of its request."""
        self.mark: Any = self.state
        """Inside an invocation: the last observation, where the handler's next change starts."""
        self.stretches: list[Stretch] = []
        self.inside: list[str] = []
        """What other actors did inside the current invocation, for its story line."""
        self.held: tuple[str, list[str]] | None = None
        """A failure found inside the handler's AWS call, raised once the handler returns:
        raised in there, it would reach the handler, which might swallow it."""
        self.replaceable: set[str] = set()
        self.competitors: list[Any] = []
        self.marks: list[Mark] = []
        self.first_attempt = 0
        self.others: list[TraceInvocation] = []
        self.sending: dict[str, Any] = {}
        """Other invocations inside the current one (a competing invocation), for the diagram."""
        self.failed = False
        self.made: dict[str, str] = {}
        """Where the handler makes the ids: the last id it made for each content (canonical
        JSON), so that an actor acting on a request later finds its record."""
        self.started: Any = self.state
        """Inside an invocation: what was observed before it began."""
        self.environment = {**self.sandbox.environment, **self.intake.environment}
        """What the handler reads from its environment: where its table and queue are, and the
        pipeline file's ``[env]``."""
        STATS.examples += 1

    # -- observing and checking -------------------------------------------------------

    def observe(self) -> Any:
        return self.judge.observe(self.sandbox)

    def next_request_id(self) -> str:
        return f"req-{next(self.ids)}"

    def tell(self, action: str, text: str, trace: Any = None, **detail: Any) -> None:
        if trace is None:  # a plan or another actor: the table and queue after it
            trace = self.picture(action, text, self.state)
        self.story.append(StoryStep(action, detail, text, trace))

    def picture(self, action: str, text: str, state: Any, **parts: Any) -> TraceStep:
        """The step as the report draws it: what it did, and the table and queue after it."""
        kind = "liveness" if text.startswith("liveness:") else action
        return TraceStep(
            number=len(self.story) + 1,
            action=cast(Any, kind if kind in TRACE_ACTIONS else "actor"),
            text=text,
            records_after=self.judge.records_text(state),
            messages_after=self.judge.messages_text(state),
            **parts,
        )

    def note_mark(self, kind: str, text: str, actor: str, state: Any) -> None:
        """Something between two calls of the current invocation, for the diagram: a race's
        actor acted, or one interleaved invocation handed the turn to the other."""
        calls = len(_made(self.sandbox.injector.attempts[self.first_attempt :]))
        records = self.judge.records_text(state)
        self.marks.append(Mark(kind, calls, text, actor, records))  # type: ignore[arg-type]

    def fail(self, invariant_name: str, problems: list[str]) -> NoReturn:
        self.failed = True
        broken(invariant_name, problems, self.story)

    def hold(self, checks: Any) -> None:
        """Run each check in order; the first that finds a problem fails the run."""
        for name, problems in checks:
            STATS.invariant_checks += 1
            if problems and name.split(" (")[0] not in self.ignored:
                self.fail(name, problems)

    @invariant()
    def model_invariants_hold(self) -> None:
        """Every invariant of the intake's judge on the last invocation; a failure names the
        broken one. (One Hypothesis invariant keeps the printed falsifying run short.)"""
        if self.last is not None:
            seen, step = self.last
            self.hold(self.judge.all_checks(seen, step, self.memory))

    def quiet_step(self, text: str, action: str, **detail: Any) -> None:
        """A step by another actor: re-observe, so its writes are not blamed on the handler."""
        self.state = self.observe()
        self.last = None
        self.tell(action, text, **detail)

    # -- invoking the handler ---------------------------------------------------------

    def call(self, event: Any, label: str, *, inside: bool = False) -> Any:
        """The handler's answer, as the judge reads it. Raising, or answering something the
        event source cannot turn into an answer, is itself a broken rule
        (``handler_always_answers``); found ``inside`` another invocation's AWS call, it is
        held until that invocation returns."""
        os.environ.update(self.environment)
        request_id = request_id_of(event) or self.next_request_id()
        # Lambda's own id differs from API Gateway's, as in AWS: a handler that quotes the
        # wrong one to the caller shows.
        context = LambdaContext(f"lambda-{request_id}")
        result: Result
        try:
            result = Returned(self.intake.handler(event, context))
        except InvocationCrashed as crash:
            result = Crashed(str(crash))
        except NoAnswerError as silent:  # out of process: no answer in time, as a hung one
            return self.unanswerable(event, label, f"{label}: {silent}", inside=inside)
        except HandlerError as exc:  # out of process: the handler's own error, as it named it
            result = Raised(exc.kind, str(exc))
        except Exception as exc:  # the handler's own exception, whatever it is
            result = Raised(type(exc).__name__, str(exc))
        try:
            return self.judge.answer(result, label, event)
        except NotAnAnswer as exc:
            return self.unanswerable(event, label, str(exc), inside=inside)

    def unanswerable(self, event: Any, label: str, problem: str, *, inside: bool) -> Any:  # noqa: RET503 - fail() raises
        """The handler gave nothing its event source can answer with: a broken rule of its own
        (API Gateway would answer 502 and log nothing useful). Found ``inside`` another
        invocation's AWS call, it is held until that invocation returns."""
        if "handler_always_answers" in self.ignored:  # as API Gateway's 502: none of its own
            return self.judge.crashed(problem.removeprefix(label + ": "))
        if inside:
            self.held = self.held or ("handler_always_answers", [problem])
            return self.judge.crashed()
        what = problem.removeprefix(label + ": ")
        self.tell("invoke", f"{label} -> {what}", event=event, **self.sending)
        self.fail("handler_always_answers", [problem])

    def invoke(self, event: Any, sent: Any, label: str, **detail: Any) -> Any:
        """One invocation as a step: run it, observe it stretch by stretch, remember; the
        invariants run after the rule."""
        judge = self.judge
        request = judge.read(event, sent)
        before = self.state
        expected = judge.expect(request, before, self.memory)
        injector = self.sandbox.injector
        mark = len(injector.attempts)
        self.current, self.mark, self.stretches = (event, request), before, []
        self.started = before
        self.inside, self.held, self.replaceable, self.competitors = [], None, set(), []
        self.marks, self.first_attempt, self.others = [], mark, []
        self.sending = detail  # what a scenario file needs of this step, should it fail here
        started = time.perf_counter()
        with logcapture.captured() as logs:
            answer = self.call(event, label)
        elapsed = time.perf_counter() - started
        STATS.log_lines += len(logs)
        self.current = None
        attempts = tuple(injector.attempts[mark:])
        after = self.observe()
        when = "after the race" if self.stretches else ""
        self.stretches.append(Stretch(self.mark, after, HANDLER, when))
        seen = Seen(
            event,
            sent,
            request,
            answer,
            before,
            after,
            tuple(self.stretches),
            attempts,
            tuple(logs),
            expected,
            frozenset(self.replaceable),
            tuple(self.competitors),
        )
        step = judge.step(seen)
        STATS.invocations += 1
        STATS.injected.update((a.operation, a.outcome) for a in attempts if a.injected)
        if isinstance(sent, Submit | tuple):
            STATS.submit_steps += 1
            STATS.seconds_in_submits += elapsed
        calls = (
            ", ".join(f"{a.operation}#{a.attempt}:{a.outcome}" for a in attempts) or "no AWS call"
        )
        inside = "".join(f"; inside it, {note}" for note in self.inside)
        text = f"{label} -> {judge.describe_answer(answer)}  [{calls}]{inside}{judge.note(step)}"
        invocation = TraceInvocation(
            "invocation", label, judge.describe_answer(answer), judge.answer_kind(answer)
        )
        trace = self.picture(
            "invoke",
            text,
            after,
            invocations=[invocation, *self.others],
            calls=[
                Call.of("invocation", a.operation, a.attempt, a.outcome) for a in _made(attempts)
            ],
            marks=self.marks,
        )
        self.tell("invoke", text, trace, event=event, **judge.detail(step), **detail)
        if self.held is not None:
            self.fail(*self.held)
        judge.remember(step, self.memory)
        self.made.update(judge.made_ids(seen, step))
        self.last, self.state = (seen, step), after
        self.settle(seen, step)
        return answer

    def settle(self, seen: Seen, step: Any) -> None:
        """Keep each valid request that failed or got no answer for liveness (a record of a
        batch on its own, as SQS redelivers it); forget one that needs no retry."""
        for key, finished, index in self.judge.settled(seen, step):
            if finished:
                self.unfinished.pop(key, None)
            else:
                sent = seen.sent[index] if isinstance(seen.sent, tuple) else seen.sent
                self.unfinished[key] = (self.space.part(seen.event, index), sent)

    def send(self, request: Any, verb: str = "submit") -> Any:
        request_id = self.next_request_id()
        event = self.space.event(request, request_id)
        STATS.encodings.update(self.space.spelling(request, request_id))
        label = self.space.label(verb, request) + self.space.spelled(request, request_id)
        return self.invoke(event, self.space.sent(request), label, **self.space.detail(request))

    # -- submissions ------------------------------------------------------------------

    def submit_new_message(self, request: Any) -> Any:
        self.send(request)
        return request

    def resubmit_seen_message(self, request: Any) -> None:
        self.send(request, "resubmit")

    def submit_conflicting_payload(self, request: Any, payload: dict[str, Any]) -> Any:
        changed = self.space.conflicting(request, payload)
        self.send(changed, "submit other content under the same id")
        return changed

    def submit_invalid_request(self, case: tuple[str, Any]) -> None:
        reason = case[0]
        event = self.space.invalid_event(case, self.next_request_id())
        self.invoke(event, Invalid(reason), f"send an invalid request ({reason})", case=reason)

    def read_record(self, request: Any, fault: Fault | None = None) -> None:
        """GET the record; sometimes while its one read fails (once, or for good)."""
        if fault is not None:
            self.plan_fault(fault)
        message_id = self.space.identifier(request) or ""
        self.invoke(
            get_event(message_id, request_id=self.next_request_id()),
            None,
            f"GET /messages/{message_id}",
        )

    def retry_unfinished_request(self, data: st.DataObject) -> None:
        self.retry(data.draw(st.sampled_from(sorted(self.unfinished)), label="retry"))

    def retry(self, key: str, why: str = "retry the unfinished request for") -> None:
        event, sent = self.unfinished[key]
        event = again(event, self.next_request_id())
        detail = self.space.resent(sent)
        self.invoke(event, sent, f"{why} {key}", verb="retry", **detail)

    # -- faults and races ---------------------------------------------------------------

    def plan_fault(self, fault: Fault) -> None:
        self.sandbox.injector.plan(fault)
        self.quiet_step(f"plan {fault.describe()}", "fault", fault=fault)

    def plan_race(self, race: Race) -> None:
        self.sandbox.injector.plan_race(race, lambda: self.run_race(race.kind))
        self.quiet_step(f"plan a race: {race.describe()}", "race", race=race)

    def submit_while_a_call_fails(self, request: Any, fault: Fault) -> Any:
        self.plan_fault(fault)
        self.send(request)
        return request

    def submit_during_a_race(self, request: Any, race: Race) -> Any:
        self.plan_race(race)
        self.send(request)
        return request

    def clear_faults(self) -> None:
        self.sandbox.injector.clear()
        self.quiet_step("clear all faults and races", "clear")

    def run_race(self, kind: RaceKind) -> bool:
        """Act as another actor, inside the handler's call (injection is paused here). What the
        handler did so far, and what the actor did, are observed as stretches of their own.
        False when there was nothing to act on (no invocation, or no id known yet): the
        report then does not count the race as injected."""
        if self.current is None:
            return False
        event, request = self.current
        now = self.observe()
        # where the handler makes the id, the record it has written so far names it
        identifier = self.judge.identifier(request) or self.judge.made_so_far(
            request, self.started, now
        )
        if identifier is None:
            if kind is not RaceKind.COMPETING_INVOCATION:
                return False
            identifier = ""  # the same request again needs no id: it makes one of its own
        self.stretches.append(Stretch(self.mark, now, HANDLER, f"before the race {kind}"))
        self.replaceable |= self.judge.raced(kind, request, self.memory)
        actor = "a consumer"
        if kind is RaceKind.COMPETING_INVOCATION:
            actor = COMPETITOR
            answer = self.call(again(event, self.next_request_id()), actor, inside=True)
            done = self.observe()
            self.competitors.append(
                self.judge.competitor(
                    request,
                    answer,
                    now,
                    done,
                    replaceable=frozenset(self.replaceable),
                    memory=self.memory,
                )
            )
            answered = self.judge.describe_answer(answer)
            self.inside.append(f"a competing invocation of the same request -> {answered}")
            self.others.append(
                TraceInvocation(
                    "competing",
                    "the same request, again",
                    self.judge.describe_answer(answer),
                    self.judge.answer_kind(answer),
                )
            )
        elif kind is RaceKind.CONSUMER_ADVANCES:
            old = self.judge.status_of(now, identifier)
            moved = self.advance(identifier, self.judge.race_target)
            done = self.observe()
            new = self.judge.status_of(done, identifier)
            key = self.judge.describe_key(identifier)
            self.inside.append(
                f"a consumer moved {key} from {old} to {new}"
                if moved
                else "a consumer found nothing to do"
            )
        else:
            actor = "TTL expiry"
            if kind is RaceKind.RECORD_EXPIRES:
                if self.expire(identifier):
                    self.inside.append(f"record {identifier} expired")
            else:
                self.delete_record(identifier)
                self.inside.append(f"record {identifier} was deleted")
            done = self.observe()
        self.stretches.append(Stretch(now, done, actor))
        self.mark = done
        self.mark_race(kind, actor, done)
        return True

    def pair_picture(
        self, text: str, label: str, answers: list[Any], calls: list[str], after: Any
    ) -> TraceStep:
        """Two interleaved invocations as the report draws them: each call by the one that made
        it (the scheduler saw them in the order the injector did), the switches between."""
        judge = self.judge
        attempts = _made(self.sandbox.injector.attempts[self.first_attempt :])
        return self.picture(
            "interleave",
            text,
            after,
            invocations=[
                TraceInvocation(
                    name, label, judge.describe_answer(answer), judge.answer_kind(answer)
                )
                for name, answer in zip("AB", answers, strict=True)
            ],
            calls=[
                Call.of(who.partition(" ")[0], a.operation, a.attempt, a.outcome)
                for who, a in zip(calls, attempts, strict=False)
            ],
            marks=self.marks,
        )

    def mark_race(self, kind: RaceKind, actor: str, state: Any) -> None:
        note = self.inside[-1] if self.inside else f"a race: {kind}"
        who = {COMPETITOR: "competing", "a consumer": "consumer"}.get(actor, actor)
        self.note_mark("race", note, who, state)

    # -- two invocations interleaved ----------------------------------------------------

    def interleave_two_invocations(self, request: Any, twin: str, at: Switches) -> Any:
        """Two invocations of one id, switching at drawn AWS calls; the same request twice, or
        other content under the same id. Some serial order must explain what they did."""
        request = self.space.alone(request)
        second = self.space.twin(request, twin != strat.TWINS[0])
        events = [
            self.space.event(request, self.next_request_id()),
            self.space.event(second, self.next_request_id()),
        ]
        sent = (self.space.sent(request), self.space.sent(second))
        self.interleave(
            events,
            sent,
            at,
            f"interleave A {self.space.label('', request).strip()} with B ({twin}) "
            f"{self.space.label('', second).strip()}",
            submitted=[self.space.detail(one).get("submitted") for one in (request, second)],
        )
        return request

    def interleave(
        self,
        events: list[Any],
        sent: tuple[Submit | None, Submit | None],
        at: Switches,
        label: str,
        **detail: Any,
    ) -> None:
        """Run both under the scheduler, calm (planned faults and races wait for later steps),
        check each stretch between switches, then the pair as a history."""
        judge = self.judge
        requests = [judge.read(event, one) for event, one in zip(events, sent, strict=True)]
        if any(judge.identifier(request) is None for request in requests):
            raise ValueError(f"an interleaving needs two valid submissions, got {requests}")
        before = self.state
        expected = [judge.expect(request, before, self.memory) for request in requests]
        injector = self.sandbox.injector
        planned = injector.faults, injector.races
        injector.faults, injector.races = [], []
        self.mark, self.stretches, self.inside, self.held = before, [], [], None
        self.replaceable, self.marks, self.first_attempt = set(), [], len(injector.attempts)

        def switched(who: int, operation: str) -> None:
            now = self.observe()
            self.stretches.append(
                Stretch(self.mark, now, HANDLER, f"{'AB'[who]} up to {operation}")
            )
            self.mark = now
            other = "AB"[1 - who]
            self.note_mark("switch", f"{'AB'[who]} hands the turn to {other}", other, now)

        scheduler = Scheduler(at, switched)
        injector.scheduler = scheduler.at_call
        handler: Any = self.intake.handler
        if hasattr(handler, "scheduler"):  # out of process: its proxy's threads take the turns
            handler.scheduler = scheduler
        answers: list[Any] = []
        try:
            with logcapture.captured() as logs:
                answers = scheduler.run(
                    lambda: self.call(events[0], "invocation A", inside=True),
                    lambda: self.call(events[1], "invocation B", inside=True),
                )
        except InterleavingStuck as stuck:  # the handler waits on something of its own
            self.tell("interleave", f"{label}, {at.describe()}: {stuck}")
            self.fail("handler_always_answers", [f"two interleaved invocations: {stuck}"])
        finally:
            injector.scheduler = None
            if hasattr(handler, "scheduler"):
                handler.scheduler = None
            injector.faults, injector.races = planned
        STATS.log_lines += len(logs)
        STATS.invocations += 2
        STATS.interleavings += 1
        after = self.observe()
        self.stretches.append(Stretch(self.mark, after, HANDLER, "after the last switch"))
        identifier = judge.identifier(requests[0]) or ""
        text = (
            f"{label}, {at.describe()}: A -> {judge.describe_answer(answers[0])}, "
            f"B -> {judge.describe_answer(answers[1])}  "
            f"[{', '.join(scheduler.calls) or 'no AWS call'}]; "
            f"record {judge.status_of(after, identifier)}, "
            f"{judge.sent_count(after, identifier)} message(s) for the id"
        )
        trace = self.pair_picture(text, label, answers, scheduler.calls, after)
        self.tell("interleave", text, trace, events=events, switches=at, **detail)
        if self.held is not None:
            self.fail(*self.held)
        whole = (Stretch(before, after),)
        first, second = (
            Seen(event, one, request, answer, before, after, whole, (), tuple(logs), expect)
            for event, one, request, answer, expect in zip(
                events, sent, requests, answers, expected, strict=True
            )
        )
        self.judge_pair(Pair((first, second), tuple(self.stretches)))

    def judge_pair(self, pair: Pair) -> None:
        """The pair as a history: each stretch, each invocation, some serial order; then what
        it established, and what of it needs a retry."""
        self.hold(self.judge.pair_checks(pair, self.memory))
        self.judge.settle_pair(pair, self.memory)
        for seen in pair.seen:
            self.settle(seen, self.judge.step(seen))
        self.last, self.state = None, pair.seen[0].after

    # -- other actors -------------------------------------------------------------------

    def admin(self, service: str) -> Any:
        return self.sandbox.admin(service)

    def update_record(self, identifier: str, **update: Any) -> None:
        """Another actor's UpdateItem on one record; planned faults never touch it."""
        with self.sandbox.injector.pause():
            self.admin("dynamodb").update_item(
                TableName=self.sandbox.table_name, Key=self.judge.key_of(identifier), **update
            )

    def delete_record(self, identifier: str) -> None:
        """Another actor's DeleteItem of one record; planned faults never touch it."""
        with self.sandbox.injector.pause():
            self.admin("dynamodb").delete_item(
                TableName=self.sandbox.table_name, Key=self.judge.key_of(identifier)
            )

    def advance(self, identifier: str, status: str | None = None) -> bool:
        """A consumer's conditional transition (to ``status``, or on by one), only for a record
        whose message it could have received."""
        move = self.judge.advance_to(self.observe(), identifier, status)
        if move is None:
            return False
        self.update_record(identifier, **self.judge.advance_update(*move))
        return True

    def expire(self, identifier: str) -> bool:
        """The record's ``ttl`` passes: still readable, and replaceable."""
        if identifier not in self.observe().records:
            return False
        self.update_record(
            identifier,
            UpdateExpression="SET #t = :past",
            ExpressionAttributeNames={"#t": "ttl"},
            ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 3600)}},
        )
        return True

    def annotate(self, identifier: str) -> bool:
        if identifier not in self.state.records:
            return False
        self.update_record(
            identifier,
            UpdateExpression="SET #n = :note",
            ExpressionAttributeNames={"#n": ANNOTATION},
            ExpressionAttributeValues={
                ":note": {"S": f"added by another writer at step {len(self.story)}"}
            },
        )
        return True

    def made_for(self, request: Any) -> str | None:
        """The id the handler last made for the request's (first valid) content, if any."""
        sent = self.space.sent(request)
        first = next(
            (one for one in (sent if isinstance(sent, tuple) else (sent,)) if one is not None),
            None,
        )
        return self.made.get(first.content) if isinstance(first, Submit) else None

    def another_actor_acts(self, request: Any, actor: str) -> None:
        """A consumer moves the record on, another writer adds an attribute, or it expires
        (where the handler makes the ids: the record it last made for that content)."""
        identifier = self.space.identifier(request) or self.made_for(request)
        if identifier is None:
            self.quiet_step(f"{actor}: no record to act on", "actor", actor=actor, message_id="")
            return
        if actor == "consumer moves on":
            done = self.advance(identifier)
        elif actor == "another writer annotates":
            done = self.annotate(identifier)
        else:
            done = self.expire(identifier)
            if done:  # a replacement is a new record: its message comes on top of the old one's
                self.memory.uncertain.add(identifier)
        outcome = "" if done else " (nothing to do)"
        self.quiet_step(
            f"{actor}: {self.judge.describe_key(identifier)}{outcome}",
            "actor",
            actor=actor,
            message_id=identifier,
        )

    # -- the end of a run: liveness -----------------------------------------------------

    def teardown(self) -> None:
        STATS.steps += len(self.story)
        if self.failed or isinstance(sys.exc_info()[1], StopTest | KeyboardInterrupt):
            # Failed, or cut short: Hypothesis discards a run that ran out of choices (as most
            # of the shrinker's attempts do), so liveness would only cost time (a tenth of it
            # when shrinking). A user's Ctrl-C must stop the run as it is: a retry now would
            # talk to a handler interrupted mid-call, and its error would replace the interrupt.
            return
        self.sandbox.injector.clear()
        self.tell("clear", "faults stop")
        for _ in range(3):
            for key in sorted(self.unfinished):
                if key in self.unfinished:
                    self.retry(key, "liveness: retry the unfinished request for")
                    self.model_invariants_hold()
        checks = dict(self.judge.at_end(self.state, self.memory))
        checks["liveness"] = [
            f"once faults stopped, retries did not finish {key}" for key in sorted(self.unfinished)
        ] + checks.get("liveness", [])
        self.hold(checks.items())


def _made(attempts: Sequence[Attempt]) -> list[Attempt]:
    """The attempts a handler made (a race's entry marks where another actor acted)."""
    return [attempt for attempt in attempts if not attempt.outcome.startswith("race:")]


def _as_rule(
    method: Callable[..., Any],
    *,
    adds: bool = False,
    when: Callable[[Any], bool] | None = None,
    **strategies: Any,
) -> Any:
    """``method`` as a rule of one intake's machine, drawing from that intake's strategies.

    The strategies depend on the intake (the requests it is sent, the operations its handler
    calls), so rules are made per machine class, on a fresh function each time: ``rule`` marks
    the function it decorates, and one function cannot carry two intakes' strategies. Plain
    strategies shrink far better than ones derived from the machine at draw time
    (``st.runner().flatmap``), which left failing runs shrinking for minutes."""

    def step(self: IntakeMachine, *args: Any, **values: Any) -> Any:
        interrupts.check()
        return method(self, *args, **values)

    step.__name__ = step.__qualname__ = method.__name__
    step.__doc__ = method.__doc__
    decorate: Any = (
        rule(target=IntakeMachine.requests, **strategies) if adds else rule(**strategies)
    )
    made = decorate(step)
    return precondition(when)(made) if when is not None else made


# The name of every machine class made for a run. No class of that name is written anywhere, so
# Hypothesis, which derives a derandomized profile's seed from the machine class's source (found
# by its name), derives it from the name alone: an edit to this module's code no longer moves
# which run a ci profile explores (it moved the zoo's named invariants with every edit). What is
# drawn (the rules, their strategies) still decides the run, as it should.
RUN_NAME = "ExploredIntake"


def machine_for(
    handler: Handler | Intake, name: str = RUN_NAME, ignored: frozenset[str] = frozenset()
) -> type[IntakeMachine]:
    """A state machine class that verifies ``handler``: to queuecheck's contract, or as an
    ``Intake`` describes it (save for the ``ignored`` invariants)."""
    intake = handler if isinstance(handler, Intake) else contract_intake(handler)
    base = IntakeMachine
    space, judge = intake.requests, intake.judge
    bundle = IntakeMachine.requests
    rules = {
        "submit_new_message": _as_rule(base.submit_new_message, adds=True, request=space.valid),
        "resubmit_seen_message": _as_rule(base.resubmit_seen_message, request=bundle),
        "submit_conflicting_payload": _as_rule(
            base.submit_conflicting_payload, adds=True, request=bundle, payload=strat.payloads
        ),
        "submit_invalid_request": _as_rule(base.submit_invalid_request, case=space.invalid),
        "retry_unfinished_request": _as_rule(
            base.retry_unfinished_request, when=lambda self: bool(self.unfinished), data=st.data()
        ),
        "plan_fault": _as_rule(base.plan_fault, fault=intake.faults),
        "plan_race": _as_rule(base.plan_race, race=intake.races),
        "submit_while_a_call_fails": _as_rule(
            base.submit_while_a_call_fails,
            adds=True,
            request=space.valid,
            fault=intake.submit_faults,
        ),
        "submit_during_a_race": _as_rule(
            base.submit_during_a_race, adds=True, request=space.valid, race=intake.races
        ),
        "clear_faults": _as_rule(base.clear_faults),
        "another_actor_acts": _as_rule(
            base.another_actor_acts, request=bundle, actor=st.sampled_from(judge.actors)
        ),
    }
    if judge.lookups:
        rules["read_record"] = _as_rule(base.read_record, request=bundle, fault=strat.lookup_faults)
    if judge.interleaves:  # two invocations of one id: not where each makes an id of its own
        rules["interleave_two_invocations"] = _as_rule(
            base.interleave_two_invocations,
            adds=True,
            request=space.valid,
            twin=strat.twins,
            at=strat.switches,
        )
    return type(name, (IntakeMachine,), {"intake": intake, "ignored": ignored, **rules})


def machine_for_pipeline(
    pipeline: Pipeline, handler: Handler, name: str = RUN_NAME
) -> type[IntakeMachine]:
    """A state machine class that verifies ``handler`` as ``pipeline`` describes it."""
    return machine_for(pipeline_intake(pipeline, handler), name)
