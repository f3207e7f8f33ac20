"""The main job: verify a handler with the state machine and print a report a person reads.

    queuecheck-verify                                  # the reference, thorough profile
    queuecheck-verify --handler mypkg.app:handler      # your handler, to queuecheck's contract
    queuecheck-verify --pipeline intake.toml           # your intake, as its pipeline file says

``tox -e verify`` runs this. Exit status 0 means PASS, 1 a broken invariant (the report
tells the story of the shrunk failing run), 2 a usage problem or a pipeline file's mistake.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import redirect_stderr
from typing import Any, NoReturn

from model.core.spec import Pipeline, PipelineFileError
from model.core.spec import load as load_pipeline
from model.harness import backends, profiles
from model.harness.driver import DEFAULT_HANDLER, HandlerLoadError, load_handler


def _table(counter: Counter[tuple[str, str]], races: bool) -> list[str]:
    rows = sorted(
        (op, kind, n) for (op, kind), n in counter.items() if kind.startswith("race:") == races
    )
    if not rows:
        return ["    (none)"]
    width = max(len(op) for op, _, _ in rows)
    return [f"    {op:<{width}}  {kind.removeprefix('race:'):<20} {n:>6}" for op, kind, n in rows]


def _spellings(counter: Counter[str]) -> list[str]:
    if not counter:
        return ["    (none)"]
    width = max(len(feature) for feature in counter)
    return [f"    {feature:<{width}}  {n:>6}" for feature, n in sorted(counter.items())]


def _backend_line() -> str:
    from model.harness.sandbox import start

    sandbox = start()
    if sandbox.servers is None:
        return "moto, in-process"
    ends = sandbox.servers.endpoints
    where = ends.dynamodb if ends.dynamodb == ends.sqs else f"{ends.dynamodb} + SQS {ends.sqs}"
    return f"{sandbox.backend} over HTTP at {where} (table by Scan, queue by recorded sends)"


def report(
    handler_spec: str,
    profile: str,
    seconds: float,
    failure: BaseException | None,
    *,
    pipeline: Pipeline | None = None,
    operations: Sequence[str] = (),
) -> str:
    from hypothesis import settings

    from model.core.generic import INVARIANTS as GENERIC_INVARIANTS
    from model.core.invariants import INVARIANTS as CONTRACT_INVARIANTS
    from model.harness.machine import LAST_FAILURE, STATS

    current = settings()
    checked = GENERIC_INVARIANTS if pipeline else CONTRACT_INVARIANTS
    judged = (
        [
            f"  pipeline:   {pipeline.origin} ({pipeline.source}: {pipeline.route}; "
            f"statuses {' -> '.join(pipeline.statuses)})",
            f"  calls:      {', '.join(operations)} (faults and races planned on these)",
            "  checks:     the generic invariants (model/core/generic.py)",
        ]
        if pipeline
        else ["  checks:     queuecheck's contract (DESIGN.md section 1) and its invariants"]
    )
    lines = [
        "queuecheck verify",
        f"  handler:    {handler_spec}",
        *judged,
        f"  backend:    {_backend_line()}",
        f"  profile:    {profile} (max_examples={current.max_examples}, "
        f"steps per example<={current.stateful_step_count}, derandomize={current.derandomize})",
        "",
        f"  examples run:        {STATS.examples}",
        f"  steps run:           {STATS.steps}  ({STATS.invocations} handler invocations)",
        f"  steps per second:    {STATS.steps / seconds:.0f}  ({seconds:.1f} s in all)",
        f"  invariants checked:  {STATS.invariant_checks}  "
        f"({len(checked)} invariants after every step, liveness at the end of every example)",
        f"  log lines checked:   {STATS.log_lines}  (no payload may show in what a handler logs)",
        "  faults injected (operation x kind, attempts):",
        *_table(STATS.injected, races=False),
        "  races injected (before operation x kind):",
        *_table(STATS.injected, races=True),
        f"  interleavings:       {STATS.interleavings}  "
        "(two invocations of one id taking turns at drawn AWS calls, each a serial-order check)",
        "  request spellings (valid requests, each spelled anew for every invocation):",
        *_spellings(STATS.encodings),
        "",
    ]
    if failure is None:
        lines.append(
            "RESULT: PASS - every invariant held in every example, and every example ended live."
        )
        return "\n".join(lines)
    lines.append(f"RESULT: FAIL - invariant {LAST_FAILURE.invariant or '?'} broken.")
    lines.append("")
    lines.append("What broke:")
    lines += [f"  - {problem}" for problem in LAST_FAILURE.problems] or [f"  {failure!r}"]
    lines.append("")
    lines.append("The shrunk failing run, as a story:")
    lines += [f"  {i}. {step.text}" for i, step in enumerate(LAST_FAILURE.story, 1)]
    notes = [
        note for note in getattr(failure, "__notes__", []) if "reproduce" in note or "@seed" in note
    ]
    if notes:
        lines += ["", "To replay it exactly:", *[f"  {note.strip()}" for note in notes]]
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """Bad arguments end in one line and exit status 2, never in a traceback."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"queuecheck verify: {message} (see queuecheck-verify --help)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _usage_error(message: str) -> int:
    print(f"queuecheck verify: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="queuecheck-verify", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--handler",
        default=None,
        help=f"module:function to verify (default: the pipeline file's, else {DEFAULT_HANDLER})",
    )
    parser.add_argument(
        "--pipeline",
        default=None,
        metavar="PATH",
        help="a pipeline file (TOML) describing an intake not written to queuecheck's contract",
    )
    parser.add_argument(
        "--profile",
        default=None,
        choices=profiles.NAMES,
        help="hypothesis profile (default: HYPOTHESIS_PROFILE or thorough)",
    )
    parser.add_argument(
        "--max-examples", type=_positive, default=None, help="override the profile's max_examples"
    )
    parser.add_argument(
        "--backend",
        default=None,
        choices=backends.NAMES,
        help="where DynamoDB and SQS run (default: QUEUECHECK_BACKEND or moto, in-process); "
        "docs/backends.md",
    )
    parser.add_argument(
        "--save-scenario",
        default=None,
        metavar="PATH",
        help="on failure, write the shrunk run as a scenario file here",
    )
    args = parser.parse_args(argv)

    import os

    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test

    from model.harness.machine import machine_for
    from model.harness.sandbox import start

    pipeline = None
    if args.pipeline:
        try:
            pipeline = load_pipeline(args.pipeline)
        except PipelineFileError as exc:
            return _usage_error(str(exc).replace("\n", "\nqueuecheck verify: "))
    handler_spec = args.handler or (pipeline.handler if pipeline else None) or DEFAULT_HANDLER
    if pipeline and not (args.handler or pipeline.handler):
        return _usage_error(f"{pipeline.origin} names no handler: add handler = or --handler")
    chosen = args.profile or os.environ.get("HYPOTHESIS_PROFILE") or "thorough"
    if chosen not in profiles.NAMES:
        return _usage_error(f"HYPOTHESIS_PROFILE={chosen!r} is not one of {profiles.NAMES}")
    profile = profiles.load(chosen)
    try:
        backends.choose(args.backend or backends.current())
        start()
    except backends.BackendError as exc:
        return _usage_error(str(exc))
    try:
        handler = load_handler(handler_spec)
    except HandlerLoadError as exc:
        return _usage_error(str(exc))
    overrides = settings(max_examples=args.max_examples) if args.max_examples else settings()
    failure: BaseException | None = None
    started = time.perf_counter()
    noise = io.StringIO()
    operations: tuple[str, ...] = ()
    try:
        with redirect_stderr(noise):  # the handler's own error logs; the report tells the story
            if pipeline:
                from model.harness.machine import machine_for_pipeline

                machine: Any = machine_for_pipeline(pipeline, handler)
                operations = machine.intake.operations
            else:
                machine = machine_for(handler)
            run_state_machine_as_test(machine, settings=overrides)  # type: ignore[no-untyped-call]
    except AssertionError as exc:
        failure = exc
    seconds = time.perf_counter() - started
    print(report(handler_spec, profile, seconds, failure, pipeline=pipeline, operations=operations))
    if failure is not None and args.save_scenario:
        _save(args.save_scenario, handler_spec, pipeline, args.pipeline, profile)
    return 0 if failure is None else 1


def _save(
    out: str, handler_spec: str, pipeline: Pipeline | None, pipeline_path: str, profile: str
) -> None:
    from model.harness.machine import LAST_FAILURE

    if pipeline:
        from model.scenarios.writer import write_pipeline_scenario

        path = write_pipeline_scenario(
            LAST_FAILURE, out, handler=handler_spec, pipeline_path=pipeline_path
        )
        print(f"\nScenario written to {path}; replay it with:")
        print(f"  python -m model.scenarios {path}")
        return
    from model.scenarios.writer import write_scenario

    path = write_scenario(LAST_FAILURE, out, handler=handler_spec, profile=profile)
    print(f"\nScenario written to {path}; run it with:")
    print(f"  python -m model.scenarios --handler {handler_spec} {path}")
    print("  (move it into scenarios/ to keep it: pytest tests/scenarios runs scenarios/*.toml)")


if __name__ == "__main__":
    sys.exit(main())
