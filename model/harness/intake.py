"""What the state machine is driven by: one intake, described.

An ``Intake`` holds the handler, the description of how to talk to it and read what it stores
(a pipeline file; for the contract, the reference's own description), the judge the run is held
to, the requests it is sent, and the AWS operations faults and races are planned on. The
machine (``model.harness.machine``) is the same for every intake: what differs lives here.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from model.core.plans import OPERATIONS, Fault, FaultKind, Race
from model.core.spec import Pipeline
from model.core.spec import load as load_pipeline
from model.harness import logcapture, profiles
from model.harness import strategies as strat
from model.harness.driver import Handler, HandlerLoadError, LambdaContext, load_handler
from model.harness.faults import InvocationCrashed
from model.harness.judges import ContractJudge, GenericJudge, layout_of
from model.harness.requests import ContractRequests, PipelineRequests, Request, RequestSpace
from model.harness.sandbox import CONTRACT_LAYOUT, Sandbox, start

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
    environment: Mapping[str, str] = attrs.field(factory=dict)
    """What the handler reads from its environment besides its table and queue."""


def load(spec: str, pipeline: Pipeline | None = None) -> Intake:
    """The intake a run verifies, made the way Lambda starts a function: its table and queue
    are created and named in the environment (with the pipeline file's ``[env]``) before the
    handler's module is imported, so settings read and clients made at import work, and their
    names stay the same for the whole run; then the handler is probed. A handler that cannot
    be imported is a ``HandlerLoadError`` of one line."""
    sandbox = start()
    if pipeline is None:
        sandbox.reset(CONTRACT_LAYOUT)
        os.environ.update(sandbox.environment)
        return contract_intake(load_handler(spec))
    sandbox.reset(layout_of(pipeline))
    os.environ.update({**sandbox.environment, **pipeline.env})
    if pipeline.runtime == "python":
        return pipeline_intake(pipeline, load_handler(spec))
    from model.harness.runtimes import outside
    from model.harness.runtimes.process import RunnerError

    try:  # node or command: the handler runs in a process of its own, behind a proxy
        handler = outside.start(pipeline, spec, sandbox, timeout_s=profiles.patience_s())
    except RunnerError as exc:
        raise HandlerLoadError(f"{pipeline.origin}: {exc}") from None
    return pipeline_intake(pipeline, handler)


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
        dict(pipeline.env),
    )


def discover_operations(pipeline: Pipeline, handler: Handler, sandbox: Sandbox) -> tuple[str, ...]:
    """Every AWS operation the handler calls on the usual paths (new, repeated, conflicting,
    a failed send), and every one its source names (a call the probe never reached, behind
    an early failure), the rollback-relevant ones first: where faults are worth planning. What
    the handler prints while probed is dropped: it is no part of the run."""
    judge = GenericJudge(pipeline)
    requests = PipelineRequests(pipeline)
    layout = judge.layout()
    sandbox.reset(layout)
    os.environ.update({**sandbox.environment, **pipeline.env})
    content = {"object": {"n": 1}, "string": "probe", "any": {"n": 1}}[pipeline.content_kind]
    other = {"object": {"n": 2}, "string": "probe 2", "any": {"n": 2}}[pipeline.content_kind]
    ids = (None, None) if pipeline.handler_makes_ids else ("probe-1", "probe-2")
    probes: Sequence[tuple[Fault | None, Request]] = [
        (None, Request(ids[0], content)),
        (None, Request(ids[0], content)),
        (None, Request(ids[0], other)),
        (Fault("sqs.SendMessage", FaultKind.ACCESS_DENIED, None), Request(ids[1], content)),
        (None, Request(ids[1], content)),
    ]
    with logcapture.captured():
        for number, (fault, request) in enumerate(probes, 1):
            sandbox.injector.clear()
            if fault is not None:
                sandbox.injector.plan(fault)
            event: Any = requests.event(request, f"probe-{number}")
            with contextlib.suppress(Exception, InvocationCrashed):  # only the calls matter
                handler(event, LambdaContext(f"probe-{number}"))
    seen = {attempt.operation for attempt in sandbox.injector.attempts}
    seen |= named_operations(handler)
    sandbox.reset(layout)
    if not seen:
        return FIRST_OPERATIONS
    return tuple(op for op in FIRST_OPERATIONS if op in seen) + tuple(
        sorted(seen - set(FIRST_OPERATIONS))
    )


# The calls a handler's source may make, as boto3 (Python) and the AWS SDK v3 (JavaScript)
# name them, and the operations they are.
_NAMED = {
    "dynamodb.PutItem": r"\.put_item\(|\bPut(Item)?Command\b",
    "dynamodb.UpdateItem": r"\.update_item\(|\bUpdate(Item)?Command\b",
    "dynamodb.GetItem": r"\.get_item\(|\bGet(Item)?Command\b",
    "dynamodb.DeleteItem": r"\.delete_item\(|\bDelete(Item)?Command\b",
    "dynamodb.Query": r"\.query\(|\bQueryCommand\b",
    "dynamodb.TransactWriteItems": r"\.transact_write_items\(|\bTransactWrite(Items)?Command\b",
    "dynamodb.BatchWriteItem": r"\.batch_write_item\(|\bBatchWrite(Item)?Command\b",
    "sqs.SendMessage": r"\.send_message\(|\bSendMessageCommand\b",
    "sqs.SendMessageBatch": r"\.send_message_batch\(|\bSendMessageBatchCommand\b",
}


def named_operations(handler: Any, source: str | None = None) -> set[str]:
    """The AWS operations a handler's source names: its module's file, where it has one."""
    if source is None:
        try:
            source = inspect.getsource(inspect.getmodule(handler) or handler)
        except (OSError, TypeError):
            return set()
    return {operation for operation, pattern in _NAMED.items() if re.search(pattern, source)}
