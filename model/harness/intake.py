"""What the state machine is driven by: one intake, described.

An ``Intake`` holds the handler, the description of how to talk to it and read what it stores
(a pipeline file; for the contract, the reference's own description), the judge the run is held
to, the requests it is sent, and the AWS operations faults and races are planned on. The
machine (``model.harness.machine``) is the same for every intake: what differs lives here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from model.core.plans import OPERATIONS, Fault, FaultKind, Race
from model.core.spec import Pipeline
from model.core.spec import load as load_pipeline
from model.harness import strategies as strat
from model.harness.driver import Handler, LambdaContext
from model.harness.faults import InvocationCrashed
from model.harness.judges import ContractJudge, GenericJudge
from model.harness.requests import ContractRequests, PipelineRequests, Request, RequestSpace
from model.harness.sandbox import Sandbox, start

# Faults on these first: they test rollback and resumption (as in model.harness.strategies).
FIRST_OPERATIONS = strat.SUBMIT_OPERATIONS


@attrs.frozen(eq=False)
class Intake:
    """Everything the machine needs to verify one handler."""

    handler: Handler
    judge: GenericJudge
    requests: RequestSpace
    operations: tuple[str, ...]
    """Where faults and races are planned: every AWS operation the handler was seen to call."""
    faults: st.SearchStrategy[Fault]
    submit_faults: st.SearchStrategy[Fault]
    """Faults for the submission they are planned with: on its own calls, from its first
    attempt on."""
    races: st.SearchStrategy[Race]
    pipeline: Pipeline | None = None
    """The pipeline file the intake is described by (None: queuecheck's contract)."""


def contract_intake(handler: Handler) -> Intake:
    """A handler written to queuecheck's contract, judged by it."""
    return Intake(
        handler,
        ContractJudge(contract_pipeline()),
        ContractRequests(),
        OPERATIONS,
        strat.faults,
        strat.submit_faults,
        strat.races,
    )


def contract_pipeline() -> Pipeline:
    """The reference intake's description (``pipelines/reference.toml``, kept beside this
    module in the package), which drives the machine in contract runs."""
    from pathlib import Path

    return load_pipeline(Path(__file__).resolve().parent.parent / "core" / "reference.toml")


def pipeline_intake(pipeline: Pipeline, handler: Handler) -> Intake:
    """An intake a pipeline file describes, judged by the generic invariants."""
    judge = GenericJudge(pipeline)
    operations = discover_operations(pipeline, handler, start())
    on_calls = st.sampled_from(operations)
    return Intake(
        handler,
        judge,
        PipelineRequests(pipeline),
        operations,
        st.builds(
            Fault,
            operation=on_calls,
            kind=strat.fault_kinds,
            times=strat.durations,
            after=st.integers(0, 2),
        ),
        st.builds(
            Fault,
            operation=on_calls,
            kind=strat.fault_kinds,
            times=strat.durations,
            after=st.sampled_from([0, 0, 1]),
        ),
        st.builds(
            Race,
            operation=on_calls,
            kind=st.sampled_from(judge.race_kinds),
            after=st.sampled_from([0, 0, 1]),
        ),
        pipeline,
    )


def discover_operations(pipeline: Pipeline, handler: Handler, sandbox: Sandbox) -> tuple[str, ...]:
    """Every AWS operation the handler calls on the usual paths (new, repeated, conflicting,
    a failed send), the rollback-relevant ones first: where faults are worth planning."""
    judge = GenericJudge(pipeline)
    requests = PipelineRequests(pipeline)
    layout = judge.layout()
    sandbox.reset(layout)
    os.environ.update(sandbox.environment)
    probes: Sequence[tuple[Fault | None, Request]] = [
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
        event: Any = requests.event(request, "probe")
        with contextlib.suppress(Exception, InvocationCrashed):  # only the calls matter here
            handler(event, LambdaContext("probe"))
    seen = {attempt.operation for attempt in sandbox.injector.attempts}
    sandbox.reset(layout)
    if not seen:
        return FIRST_OPERATIONS
    return tuple(op for op in FIRST_OPERATIONS if op in seen) + tuple(
        sorted(seen - set(FIRST_OPERATIONS))
    )
