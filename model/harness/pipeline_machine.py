"""The state machine that verifies an intake described by a pipeline file.

The same story as ``model.harness.machine`` (new, repeated, conflicting and invalid requests; every
fault kind on every operation the handler calls; crashes; races; retries; liveness), told in
the pipeline's own words and judged by the generic invariants of
``model.core.generic``. A race's actor acts inside the interrupted invocation, and what
it does is observed as a change of its own, so the handler's remainder is judged from the
state the actor left.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar, cast

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, precondition, rule

from model.core import generic
from model.core.generic import Change, Invalid, Memory, Step, Submit
from model.core.plans import Fault, FaultKind, Race, RaceKind
from model.core.sources import NotAnAnswer, again, event_for, read_answer
from model.core.spec import Pipeline
from model.core.views import Kind, Reply, View
from model.harness import logcapture, rule_choice
from model.harness import strategies as strat
from model.harness.driver import Handler, LambdaContext
from model.harness.faults import InvocationCrashed
from model.harness.machine import STATS, StoryStep, broken
from model.harness.sandbox import Layout, Sandbox, start

# A small pool of ids makes repeats and conflicts likely; each fits the usual id patterns.
IDS = ("id-1", "id-2", "id_7", "Z")
# Faults on these first: they test rollback and resumption (as in model.harness.strategies).
FIRST_OPERATIONS = ("sqs.SendMessage", "dynamodb.UpdateItem", "dynamodb.PutItem")
PIPELINE_RACES = (RaceKind.CONSUMER_ADVANCES, RaceKind.COMPETING_INVOCATION)
ANNOTATION = "queuecheckNote"
ACTORS = ("consumer moves on", "another writer annotates")


@attrs.frozen
class Request:
    """A valid request the harness sends: an id and the generated content."""

    id: str
    content: dict[str, Any]

    @property
    def canonical(self) -> str:
        return json.dumps(self.content, sort_keys=True, separators=(",", ":"))

    @property
    def judged(self) -> Submit:
        """The request as the generic model sees it: an id and its content."""
        return Submit(self.id, self.canonical)


def layout_of(pipeline: Pipeline) -> Layout:
    """The table and queue a pipeline's handler gets, named after its variables."""

    def name(env: str) -> str:
        return "queuecheck-" + re.sub(r"[^a-z0-9]+", "-", env.lower()).strip("-")

    return Layout(
        table_name=name(pipeline.table_env),
        key=tuple(part.attribute for part in pipeline.key),
        queue_name=name(pipeline.queue_env),
        table_env=pipeline.table_env,
        queue_env=pipeline.queue_env,
        ttl=None,
    )


def invalid_cases(pipeline: Pipeline) -> tuple[tuple[str, Any], ...]:
    """Requests every such intake must refuse: (what is wrong, the body or raw text)."""
    good_id, content = IDS[0], {"sku": 1}
    cases: list[tuple[str, Any]] = [
        (f"{pipeline.id_field} is a number", pipeline.body(7, content)),
        (f"{pipeline.id_field} is null", pipeline.body(None, content)),
        (f"{pipeline.content_field} is a string", pipeline.body(good_id, "x")),
        (f"{pipeline.content_field} is a list", pipeline.body(good_id, [1, 2])),
    ]
    if pipeline.id_required:
        missing = {
            k: v for k, v in pipeline.body(good_id, content).items() if k != pipeline.id_field
        }
        cases.insert(0, (f"{pipeline.id_field} missing", missing))
    if pipeline.source == "direct":
        cases += [("the event is a list", [1, 2]), ("the event is a string", "hello")]
    else:
        cases += [
            ("the body is not JSON", '{"' + pipeline.id_field + '": '),
            ("the body is a JSON list", "[1, 2]"),
            ("no body", None),
        ]
    return tuple(cases)


def discover_operations(pipeline: Pipeline, handler: Handler, sandbox: Sandbox) -> tuple[str, ...]:
    """Every AWS operation the handler calls on the usual paths (new, repeated, conflicting,
    a failed send), the rollback-relevant ones first: where faults are worth planning."""
    layout = layout_of(pipeline)
    sandbox.reset(layout)
    os.environ.update(sandbox.environment)
    probes = [
        (None, Request("probe-1", {"n": 1})),
        (None, Request("probe-1", {"n": 1})),
        (None, Request("probe-1", {"n": 2})),
        (Fault("sqs.SendMessage", FaultKind.ACCESS_DENIED, None), Request("probe-2", {"n": 1})),
        (None, Request("probe-2", {"n": 1})),
    ]
    for fault, request in probes:
        sandbox.injector.clear()
        if fault is not None:
            sandbox.injector.plan(fault)
        event = event_for(pipeline, pipeline.body(request.id, request.content), "probe")
        with contextlib.suppress(Exception, InvocationCrashed):  # only the calls matter here
            handler(event, LambdaContext("probe"))
    seen = {attempt.operation for attempt in sandbox.injector.attempts}
    sandbox.reset(layout)
    if not seen:
        return FIRST_OPERATIONS
    return tuple(op for op in FIRST_OPERATIONS if op in seen) + tuple(
        sorted(seen - set(FIRST_OPERATIONS))
    )


requests = st.builds(Request, id=st.sampled_from(IDS), content=strat.payloads)


class PipelineMachine(RuleBasedStateMachine):
    """A pipeline's handler and the generic model side by side. Build one with
    ``machine_for_pipeline``."""

    pipeline: ClassVar[Pipeline]
    handler: ClassVar[Handler]
    operations: ClassVar[tuple[str, ...]]
    invalid: ClassVar[tuple[tuple[str, Any], ...]]
    sent = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        rule_choice.install(self)  # no swarm testing: see model/harness/rule_choice.py
        self.sandbox = start()
        self.sandbox.reset(layout_of(self.pipeline))
        self.memory = Memory(
            secrets=(
                self.sandbox.table_name,
                self.sandbox.queue_url,
                self.sandbox.layout.queue_name,
            )
        )
        self.view = self.observe()
        self.story: list[StoryStep] = []
        self.unfinished: dict[str, tuple[Any, Request]] = {}
        """Valid requests that failed or got no answer, by "id (content)", for liveness."""
        self.ids = iter(range(1, 1_000_000))
        self.current: tuple[Any, Submit | Invalid] | None = None
        self.changes: list[Change] = []
        self.inside: list[str] = []
        """What other actors did inside the current invocation, for its story line."""
        self.held: tuple[str, list[str]] | None = None
        self.competitors: list[Step] = []
        self.mark: View = self.view
        self.failed = False
        STATS.examples += 1

    # -- observing and checking -----------------------------------------------------------

    def observe(self) -> View:
        return View.of(self.pipeline, self.sandbox.all_items(), self.sandbox.bodies())

    def tell(self, action: str, text: str, **detail: Any) -> None:
        self.story.append(StoryStep(action, detail, text))

    def fail(self, name: str, problems: list[str]) -> None:
        self.failed = True
        broken(name, problems, self.story)

    def check(self, step: Step, suffix: str = "") -> None:
        for check in generic.INVARIANTS:
            STATS.invariant_checks += 1
            problems = check(self.pipeline, step, self.memory)
            if problems:
                self.fail(check.__name__ + suffix, problems)

    def next_request_id(self) -> str:
        return f"req-{next(self.ids)}"

    def call(self, event: Any, label: str, *, inside: bool = False) -> Reply:
        """The handler's answer in the pipeline's terms. For rest and http, raising or
        returning something API Gateway cannot answer with is a broken rule of its own; found
        ``inside`` another invocation's AWS call, it is held until that invocation returns
        (raised in there, it would reach that handler, which might swallow it)."""
        os.environ.update(self.sandbox.environment)
        context = LambdaContext(self.next_request_id())
        try:
            answer = cast(Handler, self.handler)(event, context)
        except InvocationCrashed:
            return Reply(Kind.CRASHED)
        except Exception as exc:  # the handler's own exception, whatever it is
            if self.pipeline.source == "direct":
                return Reply(Kind.FAILED, None, f"{type(exc).__name__}: {exc}")
            return self.unanswerable(f"{label}: raised {type(exc).__name__}: {exc}", inside)
        try:
            return read_answer(self.pipeline, answer)
        except NotAnAnswer as exc:
            return self.unanswerable(f"{label}: {exc} (API Gateway answers 502)", inside)

    def unanswerable(self, problem: str, inside: bool) -> Reply:
        if inside:
            self.held = self.held or ("handler_always_answers", [problem])
            return Reply(Kind.CRASHED)
        self.tell("invoke", problem)
        self.fail("handler_always_answers", [problem])
        raise AssertionError(problem)  # unreachable: fail() raises

    def take_held(self) -> tuple[str, list[str]] | None:
        held, self.held = self.held, None
        return held

    def record_text(self, identifier: str, view: View) -> str:
        record = view.record(identifier)
        key = self.pipeline.describe_key(identifier)
        state = (
            "absent"
            if record is None
            else f"{self.pipeline.status}={record.get(self.pipeline.status)}"
        )
        return f"record {key} {state}, {view.sent(identifier)} message(s)"

    def invoke(self, event: Any, request: Submit | Invalid, label: str, **detail: Any) -> Reply:
        """One invocation as a step: run it, observe it change by change, check, remember."""
        before = self.view  # observed after the last step, and after every other actor's
        identifier = request.id if isinstance(request, Submit) else None
        conflict = isinstance(request, Submit) and self.conflicts(request, before)
        mark = len(self.sandbox.injector.attempts)
        self.current, self.changes, self.mark, self.inside = (event, request), [], before, []
        self.held, self.competitors = None, []
        started = time.perf_counter()
        with logcapture.captured() as logs:
            reply = self.call(event, label)
        elapsed = time.perf_counter() - started
        STATS.log_lines += len(logs)
        self.current = None
        after = self.observe()
        attempts = self.sandbox.injector.attempts[mark:]
        faults = tuple(
            (a.operation, a.outcome)
            for a in attempts
            if a.outcome != "passed" and not a.outcome.startswith("race:")
        )
        races = tuple(
            a.outcome.removeprefix("race:") for a in attempts if a.outcome.startswith("race:")
        )
        step = Step(
            request,
            reply,
            (*self.changes, Change(self.mark, after)),
            faults,
            races,
            conflict,
            tuple(logs),
        )
        STATS.invocations += 1
        STATS.injected.update((a.operation, a.outcome) for a in attempts if a.outcome != "passed")
        if isinstance(request, Submit):
            STATS.submit_steps += 1
            STATS.seconds_in_submits += elapsed
        calls = (
            ", ".join(f"{a.operation}#{a.attempt}:{a.outcome}" for a in attempts) or "no AWS call"
        )
        where = f"; {self.record_text(identifier, after)}" if identifier else ""
        inside = "".join(f"; inside it, {note}" for note in self.inside)
        self.tell("invoke", f"{label} -> {reply.describe()}  [{calls}]{inside}{where}", **detail)
        held = self.take_held()
        if held is not None:
            self.fail(*held)
        for competitor in self.competitors:
            self.check(competitor, " (in the competing invocation)")
        self.check(step)
        generic.remember(self.pipeline, step, self.memory)
        self.view = after
        return reply

    def quiet_step(self, text: str, action: str, **detail: Any) -> None:
        """A step by another actor: re-observe, so its writes are not blamed on the handler."""
        self.view = self.observe()
        self.tell(action, text, **detail)

    # -- submissions --------------------------------------------------------------------

    def submit(self, request: Request, verb: str = "submit") -> Reply:
        body = self.pipeline.body(request.id, strat.with_canary(request.content))
        event = event_for(self.pipeline, body, self.next_request_id())
        label = f"{verb} {self.pipeline.route} {json.dumps(body, ensure_ascii=False)}"
        reply = self.invoke(
            event,
            request.judged,
            label,
            sent={"id": request.id, "content": request.content},
            verb=verb,
        )
        key = f"{request.id} ({request.canonical[:40]})"
        if reply.accepted:
            self.unfinished.pop(key, None)
        elif reply.kind in (Kind.FAILED, Kind.CRASHED) and not self.conflicts(
            request.judged, self.view
        ):
            self.unfinished[key] = (event, request)
        return reply

    def conflicts(self, request: Submit, view: View) -> bool:
        """A record for the id is stored, and the model knows it to hold other content."""
        known = self.memory.contents.get(request.id)
        return (
            known is not None and known != request.content and view.record(request.id) is not None
        )

    @rule(target=sent, request=requests)
    def submit_new_request(self, request: Request) -> Request:
        self.submit(request)
        return request

    @rule(request=sent)
    def resubmit_seen_request(self, request: Request) -> None:
        self.submit(request, "resubmit")

    @rule(target=sent, request=sent, payload=strat.payloads)
    def submit_other_content_under_the_same_id(
        self, request: Request, payload: dict[str, Any]
    ) -> Request:
        changed = Request(request.id, {**payload, "conflict": True})
        self.submit(changed, "submit other content under the same id:")
        return changed

    def submit_invalid_request(self, case: tuple[str, Any]) -> None:
        self.send_invalid(case[0])

    def send_invalid(self, reason: str) -> None:
        body = dict(self.invalid)[reason]
        raw = not isinstance(body, dict)
        event = event_for(self.pipeline, body, self.next_request_id(), raw=raw)
        self.invoke(event, Invalid(reason), f"send an invalid request ({reason})", case=reason)

    @precondition(lambda self: bool(self.unfinished))
    @rule(data=st.data())
    def retry_unfinished_request(self, data: st.DataObject) -> None:
        self.retry(data.draw(st.sampled_from(sorted(self.unfinished)), label="retry"))

    def retry(self, key: str, why: str = "retry the unfinished request for") -> None:
        event, request = self.unfinished[key]
        event = again(self.pipeline, event, self.next_request_id())
        reply = self.invoke(
            event,
            request.judged,
            f"{why} {key}",
            sent={"id": request.id, "content": request.content},
            verb="retry",
        )
        if reply.accepted or self.conflicts(request.judged, self.view):
            self.unfinished.pop(key, None)

    # -- faults and races -------------------------------------------------------------------

    def plan_fault(self, fault: Fault) -> None:
        self.sandbox.injector.plan(fault)
        self.quiet_step(f"plan {fault.describe()}", "fault", fault=fault)

    def plan_race(self, race: Race) -> None:
        self.sandbox.injector.plan_race(race, lambda: self.run_race(race.kind))
        self.quiet_step(f"plan a race: {race.describe()}", "race", race=race)

    def submit_while_a_call_fails(self, request: Request, fault: Fault) -> Request:
        self.plan_fault(fault)
        self.submit(request)
        return request

    def submit_during_a_race(self, request: Request, race: Race) -> Request:
        self.plan_race(race)
        self.submit(request)
        return request

    @rule()
    def clear_faults(self) -> None:
        self.sandbox.injector.clear()
        self.quiet_step("clear all faults and races", "clear")

    def run_race(self, kind: RaceKind) -> None:
        """Act as another actor inside the handler's call (injection is paused here), and
        observe what the handler did so far and what the actor did, as changes of their own."""
        if self.current is None:
            return
        event, request = self.current
        if not isinstance(request, Submit):
            return
        now = self.observe()
        self.changes.append(Change(self.mark, now))
        if kind is RaceKind.COMPETING_INVOCATION:
            actor = "a competing invocation"
            self.memory.uncertain.add(request.id)
            retry = again(self.pipeline, event, self.next_request_id())
            reply = self.call(retry, "a competing invocation", inside=True)
            done = self.observe()
            competitor = Step(
                request, reply, (Change(now, done, actor),), conflict=self.conflicts(request, now)
            )
            self.inside.append(f"a competing invocation of the same request -> {reply.describe()}")
            self.competitors.append(competitor)  # judged once the interrupted one returns
        else:
            actor = "a consumer"
            old = (now.record(request.id) or {}).get(self.pipeline.status)
            moved = self.advance(request.id)
            done = self.observe()
            new = (done.record(request.id) or {}).get(self.pipeline.status)
            key = self.pipeline.describe_key(request.id)
            self.inside.append(
                f"a consumer moved {key} from {old} to {new}"
                if moved
                else "a consumer found nothing to do"
            )
        self.changes.append(Change(now, done, actor))
        self.mark = done

    # -- other actors -----------------------------------------------------------------------

    def advance(self, identifier: str) -> bool:
        """A consumer's conditional transition along ``later``; only once it could have
        received a message for the record."""
        view = self.observe()
        record = view.record(identifier)
        if record is None or not view.sent(identifier):
            return False
        pipeline = self.pipeline
        old = record.get(pipeline.status)
        rank = pipeline.rank(old)
        following = max(rank, 1) + 1 if rank is not None else len(pipeline.statuses)
        if following >= len(pipeline.statuses):
            return False
        with self.sandbox.injector.pause():
            self.sandbox.admin("dynamodb").update_item(
                TableName=self.sandbox.table_name,
                Key={name: {"S": value} for name, value in pipeline.key_for(identifier).items()},
                UpdateExpression="SET #s = :new",
                ConditionExpression="#s = :old",
                ExpressionAttributeNames={"#s": pipeline.status},
                ExpressionAttributeValues={
                    ":new": {"S": pipeline.statuses[following]},
                    ":old": {"S": old},
                },
            )
        return True

    def annotate(self, identifier: str) -> bool:
        if identifier not in self.view.records:
            return False
        with self.sandbox.injector.pause():
            self.sandbox.admin("dynamodb").update_item(
                TableName=self.sandbox.table_name,
                Key={n: {"S": v} for n, v in self.pipeline.key_for(identifier).items()},
                UpdateExpression="SET #n = :note",
                ExpressionAttributeNames={"#n": ANNOTATION},
                ExpressionAttributeValues={":note": {"S": f"added at step {len(self.story)}"}},
            )
        return True

    @rule(request=sent, actor=st.sampled_from(ACTORS))
    def another_actor_acts(self, request: Request, actor: str) -> None:
        """A consumer moves the record on, or another writer adds an attribute of its own."""
        done = self.advance(request.id) if actor == ACTORS[0] else self.annotate(request.id)
        outcome = "" if done else " (nothing to do)"
        self.quiet_step(
            f"{actor}: {self.pipeline.describe_key(request.id)}{outcome}",
            "actor",
            actor=actor,
            id=request.id,
        )

    # -- liveness (the invariants run inside invoke, where every change is at hand) ---------

    def teardown(self) -> None:
        STATS.steps += len(self.story)
        if self.failed:
            return
        self.sandbox.injector.clear()
        self.tell("clear", "faults stop")
        for _ in range(3):
            for key in sorted(self.unfinished):
                if key in self.unfinished:
                    self.retry(key, "liveness: retry the unfinished request for")
        pipeline = self.pipeline
        problems = [
            f"once faults stopped, retries did not finish {key}" for key in sorted(self.unfinished)
        ]
        problems += [
            f"once faults stopped, record {pipeline.describe_key(identifier)} is still "
            f"{pipeline.pending}"
            for identifier, record in sorted(self.view.records.items())
            if record.get(pipeline.status) == pipeline.pending
        ]
        if problems:
            self.fail("liveness", problems)


def _as_rule(method: Callable[..., Any], *, adds: bool = False, **strategies: Any) -> Any:
    """``method`` as a rule of one pipeline's machine, drawing from that pipeline's strategies.

    The strategies depend on the pipeline (the operations its handler calls, its invalid
    requests), so these rules are made per machine class, on a fresh function each time:
    ``rule`` marks the function it decorates, and one function cannot carry two pipelines'
    strategies. Plain strategies shrink far better than ones derived from the machine at draw
    time (``st.runner().flatmap``), which left failing runs shrinking for minutes."""

    def step(self: PipelineMachine, *args: Any, **values: Any) -> Any:
        return method(self, *args, **values)

    step.__name__ = step.__qualname__ = method.__name__
    step.__doc__ = method.__doc__
    decorate: Any = rule(target=PipelineMachine.sent, **strategies) if adds else rule(**strategies)
    return decorate(step)


def machine_for_pipeline(
    pipeline: Pipeline, handler: Handler, name: str = "PipelineMachine"
) -> type[PipelineMachine]:
    """A state machine class that verifies ``handler`` as ``pipeline`` describes it."""
    operations = discover_operations(pipeline, handler, start())
    on_calls = st.sampled_from(operations)
    faults = st.builds(
        Fault,
        operation=on_calls,
        kind=strat.fault_kinds,
        times=strat.durations,
        after=st.integers(0, 2),
    )
    submit_faults = st.builds(
        Fault,
        operation=on_calls,
        kind=strat.fault_kinds,
        times=strat.durations,
        after=st.sampled_from([0, 0, 1]),
    )
    races = st.builds(
        Race,
        operation=on_calls,
        kind=st.sampled_from(PIPELINE_RACES),
        after=st.sampled_from([0, 0, 1]),
    )
    base = PipelineMachine
    rules = {
        "submit_invalid_request": _as_rule(
            base.submit_invalid_request, case=st.sampled_from(invalid_cases(pipeline))
        ),
        "plan_fault": _as_rule(base.plan_fault, fault=faults),
        "plan_race": _as_rule(base.plan_race, race=races),
        "submit_while_a_call_fails": _as_rule(
            base.submit_while_a_call_fails, adds=True, request=requests, fault=submit_faults
        ),
        "submit_during_a_race": _as_rule(
            base.submit_during_a_race, adds=True, request=requests, race=races
        ),
    }
    return type(
        name,
        (PipelineMachine,),
        {
            "pipeline": pipeline,
            "handler": staticmethod(handler),
            "operations": operations,
            "invalid": invalid_cases(pipeline),
            **rules,
        },
    )
