"""Scenario files: fixed, readable step sequences with faults, races and expectations.

A scenario is data a reviewer reads without knowing Python (``scenarios/README.md``). This
module reads one and rejects a malformed one with a message naming the file, the step and the
fix; checks its expectations against the model before anything runs (``check``); and runs it
against a handler on the state machine's own machinery (``run``), so a scenario step is
observed, judged and remembered exactly like a step of a Hypothesis run, and every invariant
of ``model.core.invariants`` holds after it. Each answer a scenario expects must also be one that
``model.core.outcomes.allowed`` permits for what actually happened: a scenario can never say
something the model forbids, so scenarios and model cannot drift apart.

Parsing and the static check use only the model's pure core; the runner loads the sandbox
(moto, botocore) and the state machine when it runs.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import attrs

from model.core import invariants
from model.core.contract import Content, Lookup, Rejection, Submission
from model.core.lifecycle import STATUS_UPDATE_FIELDS, Status
from model.core.observed import Answer, Snapshot
from model.core.outcomes import Disturbance, Outcome, allowed
from model.core.spec import Pipeline
from model.harness import backends
from model.scenarios.check import describe_outcomes, load
from model.scenarios.format import (
    FIX,
    STORY_LINES,
    Actor,
    ModelContradiction,
    RecordExpectation,
    Scenario,
    ScenarioError,
    ScenarioFailed,
    Step,
)

# -- running a scenario ----------------------------------------------------------------


@attrs.frozen
class Competitor:
    """A competing invocation a race ran inside a step, with what it saw and answered."""

    request: Submission | Lookup | Rejection
    before: Snapshot
    stored: Content | None
    answer: Answer

    def permitted(self) -> frozenset[Outcome]:
        # The competitor's own calls are never injected: for it, the world is calm.
        return allowed(self.request, self.before, self.stored, Disturbance())


@attrs.frozen(eq=False)
class Observation:
    """One step as it ran: the observed step (invocations only) and the answers allowed."""

    step: Step
    observed: invariants.Step | None = None
    permitted: frozenset[Outcome] = frozenset()
    competitors: tuple[Competitor, ...] = ()


def _fail_as_a_scenario(machine: Any, invariant_name: str, problems: list[str]) -> NoReturn:
    lines = [f"invariant {invariant_name}: {problem}" for problem in problems]
    machine.failed = True
    raise ScenarioFailed(machine.where, listing(lines, machine.story))


@functools.cache
def _machine_class(
    handler: Callable[[Any, Any], Any], ignored: frozenset[str] = frozenset()
) -> type[Any]:
    """The state machine, driven step by step instead of by Hypothesis.

    Reusing it means a scenario step is invoked, observed, remembered and checked exactly like
    a step of a Hypothesis run; a failure is reported as the scenario's.
    """
    from model.harness.machine import machine_for

    base = machine_for(handler, "ScenarioMachine", ignored)
    return type("ScenarioMachine", (base,), {"where": "", "fail": _fail_as_a_scenario})


def _pipeline_machine(
    handler: Callable[[Any, Any], Any], pipeline: Pipeline, ignored: frozenset[str]
) -> Any:
    """The same, for an intake a pipeline file describes."""
    from model.harness.intake import pipeline_intake
    from model.harness.machine import machine_for

    base = machine_for(pipeline_intake(pipeline, handler), "ScenarioMachine", ignored)
    return type("ScenarioMachine", (base,), {"where": "", "fail": _fail_as_a_scenario})()


def _broken(machine: Any, seen: Any, judged: Any) -> list[str]:
    """What the last step broke, every invariant the machine holds the handler to."""
    return [
        f"invariant {name}: {problem}"
        for name, problems in machine.judge.all_checks(seen, judged, machine.memory)
        if name.split(" (")[0] not in machine.ignored
        for problem in problems
    ]


def listing(problems: list[str], story: list[Any]) -> str:
    """Problems, then the last lines of what happened: the message of a failed step."""
    recent = story[-STORY_LINES:]
    first = len(story) - len(recent) + 1
    lines = [f"  - {problem}" for problem in problems]
    lines += ["what happened (latest last):"]
    lines += [f"  {number}. {entry.text}" for number, entry in enumerate(recent, first)]
    return "\n" + "\n".join(lines)


def _typed_records(sandbox: Any) -> dict[str, dict[str, Any]]:
    """Every item exactly as DynamoDB holds it ({"S": ...}, {"N": "2"}): byte-for-byte checks."""
    return sandbox.typed_items()  # type: ignore[no-any-return]


def run(
    scenario: Scenario, handler: Callable[[Any, Any], Any], *, expectations: bool = True
) -> list[Observation]:
    """Run a scenario against ``handler`` in a fresh sandbox; raise at the first failing step.

    After every step each invariant of the model holds; with ``expectations`` every expectation
    of the step holds too, and each expected answer is one the model allows for what actually
    happened (else ``ModelContradiction``). Liveness runs at the end if the scenario asks for it.
    """
    if scenario.pipeline is not None:
        return _run_pipeline(scenario, handler, expectations=expectations)
    machine = _machine_class(handler, frozenset(scenario.ignored))()
    typed = {0: _typed_records(machine.sandbox)}
    observations = []
    for step in scenario.steps:
        machine.where = step.where
        try:
            observed = _perform(machine, step)
        except ScenarioError:
            raise
        except Exception as exc:
            problem = f"the step could not run: {type(exc).__name__}: {exc}"
            raise ScenarioFailed(step.where, listing([problem], machine.story)) from exc
        typed[step.number] = _typed_records(machine.sandbox)
        permitted: frozenset[Outcome] = frozenset()
        if observed is not None and observed.request is not None and observed.answer is not None:
            permitted = allowed(
                observed.request, observed.before, observed.stored_content, observed.disturbance
            )
        competitors = tuple(
            Competitor(c.request, c.before, c.stored_content, c.answer)
            for c in (machine.competitors if observed is not None else ())
        )
        observation = Observation(step, observed, permitted, competitors)
        observations.append(observation)
        _judge(machine, observation, typed, expectations)
    if scenario.liveness:
        last = scenario.steps[-1].number
        machine.where = (
            f"{scenario.where}, liveness (faults stop after step {last}, retries follow)"
        )
        machine.teardown()
    return observations


def _perform(machine: Any, step: Step) -> invariants.Step | None:
    if step.request is not None:
        event = step.request.event(machine.next_request_id())
        machine.invoke(event, None, step.title)
        return machine.last[1]  # type: ignore[no-any-return]
    if step.fault is not None:
        machine.plan_fault(step.fault)
    elif step.race is not None:
        machine.plan_race(step.race)
    elif step.actor is not None:
        _act(machine, step.actor)
    elif step.pair is not None:
        assert step.switches is not None
        events = [request.event(machine.next_request_id()) for request in step.pair]
        label = f"interleave A and B ({step.title})"
        machine.interleave(events, (None, None), step.switches, label)
    else:
        machine.clear_faults()
    return None


def _act(machine: Any, actor: Actor) -> None:
    message_id = actor.message_id
    if actor.who == "consumer":
        targets = [actor.status] if actor.status else [Status.PROCESSING, Status.DELIVERED]
        done = any(machine.advance(message_id, status) for status in targets)
    elif actor.who == "writer":
        done = message_id in machine.observe().records
        if done:
            machine.update_record(
                message_id,
                UpdateExpression="SET #a = :v",
                ExpressionAttributeNames={"#a": actor.attribute},
                ExpressionAttributeValues={":v": {"S": actor.value}},
            )
    elif actor.who == "expiry":
        done = machine.expire(message_id)
        if done:  # a replacement is a new record: its message comes on top of the old one's
            machine.memory.uncertain.add(message_id)
    else:
        done = message_id in machine.observe().records
        if done:
            machine.memory.vanished.add(message_id)
            machine.memory.uncertain.add(message_id)
            machine.delete_record(message_id)
    text = actor.describe() + ("" if done else " (nothing to do)")
    machine.quiet_step(text, "actor", actor=actor.who, message_id=message_id)


def _situation(observed: invariants.Step) -> str:
    request = observed.request
    hits = sorted({f"{kind} on {operation}" for operation, kind in observed.injected})
    injected = ", ".join(hits) if hits else "nothing injected"
    if isinstance(request, Rejection) or request is None:
        return "this request is invalid, so"
    message_id, before = request.message_id, observed.before
    if message_id not in before.records:
        state = f"no record {message_id}"
    elif before.expired(message_id):
        state = f"record {message_id} expired"
    else:
        state = f"record {message_id} {before.status(message_id)}"
        stored = observed.stored_content
        if isinstance(request, Submission) and stored is not None:
            same = stored.fingerprint() == request.content.fingerprint()
            state += ", same content" if same else ", other content than this request"
    return f"with {state} before the step and {injected},"


def _judge(
    machine: Any, observation: Observation, typed: dict[int, Any], expectations: bool
) -> None:
    step, observed = observation.step, observation.observed
    broken = []
    if observed is not None and observed.answer is not None and machine.last is not None:
        seen, judged = machine.last
        broken += _broken(machine, seen, judged)
    problems: list[str] = []
    contradictions: list[str] = []
    if expectations and observed is not None and observed.answer is not None:
        expected = step.expect.answer
        if not expected.empty and not any(expected.matches(o) for o in observation.permitted):
            if not observed.injected and machine.sandbox.injector.active():
                # The expectation fits the fault the scenario planned (the static check saw to
                # that); it is the handler that never made the call the fault waits for.
                problems.append(
                    f"expected {expected.describe()}, got {observed.answer.describe()}: a planned "
                    "fault or race never fired, so the handler never made the AWS call it targets"
                )
            else:
                contradictions.append(
                    f"the scenario contradicts the model: it expects {expected.describe()}, but "
                    f"{_situation(observed)} the model allows only "
                    f"{describe_outcomes(observation.permitted)}. {FIX}"
                )
        elif not expected.empty and expected.differs(observed.answer):
            problems.append(f"expected {expected.describe()}, got {observed.answer.describe()}")
    if expectations:
        contradictions += _competitor_problems(step, observation.competitors, problems)
        problems += _state_problems(step, machine.state, typed)
    if contradictions and not broken:
        raise ModelContradiction(step.where, listing(contradictions, machine.story))
    problems = broken + problems + contradictions
    if problems:
        raise ScenarioFailed(step.where, listing(problems, machine.story))


def _competitor_problems(
    step: Step, competitors: tuple[Competitor, ...], problems: list[str]
) -> list[str]:
    """Contradictions of the model in what the step expects of a competing invocation; other
    mismatches are added to ``problems``."""
    expected = step.expect.competitor
    if expected is None:
        return []
    if not competitors:
        problems.append(
            "expected a competing invocation, but none ran in this step (plan a race of kind "
            "competing_invocation on an operation this request calls)"
        )
        return []
    competitor = competitors[0]
    permitted = competitor.permitted()
    if not any(expected.matches(outcome) for outcome in permitted):
        return [
            f"the scenario contradicts the model: it expects the competing invocation to answer "
            f"{expected.describe()}, but the model allows only "
            f"{describe_outcomes(permitted)}. {FIX}"
        ]
    if expected.differs(competitor.answer):
        problems.append(
            f"expected the competing invocation to answer {expected.describe()}, "
            f"got {competitor.answer.describe()}"
        )
    return []


_MISSING = object()


def _state_problems(step: Step, after: Snapshot, typed: dict[int, Any]) -> list[str]:
    expect, message_id = step.expect, step.target
    problems = []
    if expect.stored is not None and expect.stored != len(after.records):
        problems.append(f"expected {expect.stored} stored record(s), found {len(after.records)}")
    if expect.record is not None and message_id is not None:
        problems += _record_problems(expect.record, message_id, after, typed, step.number)
    queue = expect.queue
    if queue is None:
        return problems
    if queue.total is not None and queue.total != len(after.messages):
        problems.append(
            f"expected {queue.total} message(s) in the queue, found {len(after.messages)}"
        )
    if message_id is None:
        return problems
    mine = after.messages_for(message_id)
    if queue.messages is not None and queue.messages != len(mine):
        problems.append(
            f"expected {queue.messages} queue message(s) for {message_id}, found {len(mine)}"
        )
    if queue.body and not mine:
        problems.append(
            f"expected a queue message for {message_id} carrying {dict(queue.body)}, found none"
        )
    for field, value in (queue.body or {}).items():
        for index, message in enumerate(mine, 1):
            actual = (message.body or {}).get(field, _MISSING)
            if actual != value:
                shown = "nothing" if actual is _MISSING else repr(actual)
                problems.append(
                    f"queue message {index} for {message_id}: "
                    f"expected {field} = {value!r}, found {shown}"
                )
    return problems


def _record_problems(
    expect: RecordExpectation, message_id: str, after: Snapshot, typed: dict[int, Any], number: int
) -> list[str]:
    record = after.record(message_id)
    if expect.exists is not None and expect.exists != (record is not None):
        return [f"expected record {message_id} {'to exist' if expect.exists else 'not to exist'}"]
    if record is None:
        wanted = expect.status or expect.fields or expect.present or expect.unchanged_since
        return [f"expected record {message_id}, but none is stored"] if wanted else []
    problems = []
    if expect.status is not None and expect.status != record.get("status"):
        problems.append(
            f"expected record {message_id} {expect.status}, it is {record.get('status')}"
        )
    for field, value in expect.fields.items():
        actual = record.get(field, _MISSING)
        if actual != value:
            shown = "absent" if actual is _MISSING else repr(actual)
            problems.append(f"record {message_id}: expected {field} = {value!r}, it is {shown}")
    problems += [
        f"record {message_id}: expected {f} to be present"
        for f in expect.present
        if f not in record
    ]
    problems += [
        f"record {message_id}: expected {f} to be absent, it is {record[f]!r}"
        for f in expect.absent
        if f in record
    ]
    now = typed[number].get(message_id, {})
    for since, ignored in (
        (expect.unchanged_since, frozenset()),
        (expect.metadata_unchanged_since, STATUS_UPDATE_FIELDS),
    ):
        if since is None:
            continue
        then = typed[since].get(message_id, {})
        changed = sorted(f for f in (set(then) | set(now)) - ignored if then.get(f) != now.get(f))
        kept = "every field" if not ignored else "every field but the status-update ones"
        problems += [
            f"record {message_id}: {field} changed since step {since} ({kept} must stay byte for "
            f"byte): {then.get(field, 'absent')} -> {now.get(field, 'absent')}"
            for field in changed
        ]
    return problems


# -- a pipeline scenario -----------------------------------------------------------------


def _run_pipeline(
    scenario: Scenario, handler: Callable[[Any, Any], Any], *, expectations: bool
) -> list[Observation]:
    """A scenario in a pipeline file's words: each step run on the machine, every generic
    invariant after it, and what the file expects of answers, records and the queue."""
    assert scenario.pipeline is not None
    machine = _pipeline_machine(handler, scenario.pipeline, frozenset(scenario.ignored))
    observations = []
    for step in scenario.steps:
        machine.where = step.where
        machine.last = None
        try:
            _perform_in_pipeline(machine, step, scenario.pipeline)
        except ScenarioError:
            raise
        except KeyError as exc:  # an invalid case the pipeline file does not make
            raise ScenarioFailed(step.where, f" {exc.args[0]}") from None
        except Exception as exc:
            problem = f"the step could not run: {type(exc).__name__}: {exc}"
            raise ScenarioFailed(step.where, listing([problem], machine.story)) from exc
        observed = machine.last[1] if machine.last is not None else None
        problems = []
        if machine.last is not None:
            seen, judged = machine.last
            problems += _broken(machine, seen, judged)
        if expectations:
            problems += _pipeline_problems(step, observed, machine)
        if problems:
            raise ScenarioFailed(step.where, listing(problems, machine.story))
        observations.append(Observation(step))
    if scenario.liveness:
        machine.where = f"{scenario.where}, liveness (faults stop, retries follow)"
        machine.teardown()
    return observations


def _perform_in_pipeline(machine: Any, step: Step, pipeline: Pipeline) -> None:
    from model.harness.requests import Batch, Request, case_named

    verb = "retry" if step.retry_of else "submit"
    if step.records is not None:
        machine.send(_batch(machine, step.records), verb)
    elif step.sent is not None:
        request = Request(step.sent.id, step.sent.content)
        single = pipeline.source == "sqs"  # a submission to an SQS intake: a batch of one
        machine.send(Batch((request,)) if single else request, verb)
    elif step.case is not None:
        machine.submit_invalid_request(case_named(machine.space.cases, step.case))
    elif step.pair_sent is not None and step.switches is not None:
        pair = [Request(one.id, one.content) for one in step.pair_sent]
        if pipeline.source == "sqs":
            pair = [Batch((one,)) for one in pair]  # type: ignore[misc]
        events = [machine.space.event(one, machine.next_request_id()) for one in pair]
        sent = (machine.space.sent(pair[0]), machine.space.sent(pair[1]))
        machine.interleave(events, sent, step.switches, f"interleave A and B ({step.title})")
    elif step.fault is not None:
        machine.plan_fault(step.fault)
    elif step.race is not None:
        machine.plan_race(step.race)
    elif step.actor is not None:
        _act_in_pipeline(machine, step.actor)
    else:
        machine.clear_faults()


def _batch(machine: Any, records: tuple[Any, ...]) -> Any:
    """The SQS batch a scenario step lists: valid requests, and invalid ones by their case."""
    from model.harness.requests import Batch, Request, case_named

    return Batch(
        tuple(
            case_named(machine.space.cases, record)
            if isinstance(record, str)
            else Request(record.id, record.content)
            for record in records
        )
    )


def _act_in_pipeline(machine: Any, actor: Actor) -> None:
    identifier = actor.message_id
    done = machine.advance(identifier) if actor.who == "consumer" else machine.annotate(identifier)
    text = f"{actor.describe()}" + ("" if done else " (nothing to do)")
    machine.quiet_step(text, "actor", actor=actor.who, message_id=identifier)


def _pipeline_problems(step: Step, observed: Any, machine: Any) -> list[str]:
    expect, problems = step.expect, []
    answer = expect.answer
    if observed is not None and not answer.empty:
        reply = observed.reply
        if answer.kind is not None and answer.kind != str(reply.kind):
            problems.append(f"expected the answer {answer.describe()}, got {reply.describe()}")
        elif answer.status is not None and answer.status != reply.status:
            problems.append(f"expected HTTP {answer.status}, got {reply.describe()}")
    identifier, view = step.target, machine.state
    pipeline = machine.judge.pipeline
    if expect.record is not None and identifier is not None:
        record = view.record(identifier)
        key = pipeline.describe_key(identifier)
        wanted = expect.record
        if wanted.exists is not None and wanted.exists != (record is not None):
            problems.append(f"expected record {key} {'to exist' if wanted.exists else 'absent'}")
        elif record is None and (wanted.status or wanted.fields):
            problems.append(f"expected record {key}, but none is stored")
        elif record is not None:
            status = record.get(pipeline.status)
            if wanted.status is not None and wanted.status != status:
                problems.append(f"expected record {key} {wanted.status}, it is {status}")
            problems += [
                f"record {key}: expected {name} = {value!r}, it is {record.get(name, 'absent')!r}"
                for name, value in wanted.fields.items()
                if record.get(name) != value
            ]
    queue = expect.queue
    if queue is not None:
        if queue.total is not None and queue.total != len(view.messages):
            problems.append(f"expected {queue.total} message(s) in all, found {len(view.messages)}")
        if queue.messages is not None and identifier is not None:
            found = view.sent(identifier)
            if queue.messages != found:
                problems.append(
                    f"expected {queue.messages} message(s) for {identifier}, found {found}"
                )
    return problems


# -- the command line ------------------------------------------------------------------


def directory() -> Path:
    """The checkout's ``scenarios/`` folder: the working directory's, else the one beside
    ``model/`` (an editable install). An installed wheel carries no scenarios."""
    for candidate in (
        Path.cwd() / "scenarios",
        Path(__file__).resolve().parent.parent / "scenarios",
    ):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no scenarios/ folder here: run from the queuecheck checkout")


def files(folder: Path | None = None) -> list[Path]:
    return sorted((folder or directory()).glob("*.toml"))


def main(argv: list[str] | None = None) -> int:
    """``python -m model.scenarios [--handler module:function] [FILE ...]``: run scenario files,
    the contract's and pipeline files' alike. Exit 0: all passed; 1: one failed; 2: a file or
    an option is wrong (one line)."""
    import argparse

    from model.core.spec import PipelineFileError
    from model.harness.driver import DEFAULT_HANDLER, HandlerLoadError
    from model.harness.intake import load as load_intake
    from model.harness.sandbox import start

    parser = argparse.ArgumentParser(prog="python -m model.scenarios", description=main.__doc__)
    parser.add_argument(
        "--handler",
        default=None,
        help="module:function to run them against (default: the file's handler, its pipeline "
        f"file's, else {DEFAULT_HANDLER})",
    )
    parser.add_argument(
        "--backend",
        default=None,
        choices=backends.NAMES,
        help="where DynamoDB and SQS run (default: QUEUECHECK_BACKEND or moto, in-process)",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="scenario files (default: scenarios/*.toml)"
    )
    options = parser.parse_args(argv)
    scenarios = []
    for path in options.paths or files():
        try:
            scenarios.append(load(path))
        except (ScenarioError, PipelineFileError) as exc:
            print(f"python -m model.scenarios: {exc}".replace("\n", " "), file=sys.stderr)
            return 2
    runtimes = {scenario.pipeline.runtime for scenario in scenarios if scenario.pipeline}
    runtime = next((name for name in sorted(runtimes) if name != "python"), "python")
    try:  # a handler in another process reaches AWS over HTTP: moto's server by default
        backends.choose(options.backend or backends.default(runtime))
        start()
    except backends.BackendError as exc:
        print(f"python -m model.scenarios: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for scenario in scenarios:
        pipeline = scenario.pipeline
        spec = (
            options.handler
            or scenario.handler
            or (pipeline.handler if pipeline else None)
            or DEFAULT_HANDLER
        )
        try:
            handler = load_intake(spec, pipeline).handler
        except HandlerLoadError as exc:
            print(f"python -m model.scenarios: {exc}".replace("\n", " "), file=sys.stderr)
            return 2
        try:
            run(scenario, handler)
        except ScenarioError as error:
            failed += 1
            print(f"FAIL {scenario.path.stem}\n{error}\n", file=sys.stdout)
        else:
            print(f"ok   {scenario.path.stem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
