"""The main job: verify a handler with the state machine and print a report a person reads.

    queuecheck-verify                                  # the reference, thorough profile
    queuecheck-verify --handler mypkg.app:handler      # your handler, to queuecheck's contract
    queuecheck-verify --pipeline intake.toml           # your intake, as its pipeline file says

``tox -e verify`` runs this. Exit status 0 means PASS, 1 a broken invariant (the report
tells the story of each shrunk failing run), 2 a usage problem or a pipeline file's mistake.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shlex
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, NoReturn

import attrs

from model.core.spec import Pipeline, PipelineFileError
from model.core.spec import load as load_pipeline
from model.entrypoints import page
from model.harness import backends, interrupts, profiles
from model.harness.driver import DEFAULT_HANDLER, HandlerLoadError


@attrs.frozen
class Verdict:
    """What a run found, in the order a reader wants it: each broken invariant's shrunk story,
    the shallowest first, and how to run it again."""

    handler: str
    profile: str
    seconds: float
    failures: tuple[Any, ...]
    """``model.harness.story.LastFailure`` of each broken invariant, shortest story first."""
    replay: tuple[str, ...]
    """Command lines that run the same run again."""
    unexplained: str = ""
    """A failure that named no invariant (it should not happen): its text."""
    saved: tuple[str, ...] = ()
    """Scenario files written for the failures."""

    @property
    def passed(self) -> bool:
        return not self.failures and not self.unexplained


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


def header_lines(intake: Any, handler_spec: str, profile: str) -> list[str]:
    """Who is verified, against what, where, and how hard."""
    from hypothesis import settings

    current, pipeline, judge = settings(), intake.pipeline, intake.judge
    judged = (
        [
            f"  pipeline:   {pipeline.origin} ({pipeline.source}: {pipeline.route}; "
            f"statuses {' -> '.join(pipeline.statuses)})",
            f"  calls:      {', '.join(intake.operations)} (faults and races planned on these)",
        ]
        if pipeline
        else []
    )
    return [
        "queuecheck verify",
        f"  handler:    {handler_spec}",
        *judged,
        f"  checks:     {judge.title}",
        f"  backend:    {page.backend_line()}",
        f"  profile:    {profile} (max_examples={current.max_examples}, "
        f"steps per example<={current.stateful_step_count}, derandomize={current.derandomize})",
    ]


def report(intake: Any, verdict: Verdict) -> str:
    """The report a person reads: what was run, what it covered, and each failure's story."""
    from model.harness.story import STATS

    seconds = verdict.seconds
    lines = [
        *header_lines(intake, verdict.handler, verdict.profile),
        "",
        f"  examples run:        {STATS.examples}",
        f"  steps run:           {STATS.steps}  ({STATS.invocations} handler invocations)",
        f"  steps per second:    {STATS.steps / max(seconds, 1e-9):.0f}  ({seconds:.1f} s in all)",
        f"  invariants checked:  {STATS.invariant_checks}  "
        f"({len(intake.judge.names)} invariants after every step, liveness at the end of every "
        "example)",
        f"  log lines checked:   {STATS.log_lines}  (no payload may show in what a handler logs)",
        "  faults injected (operation x kind, attempts):",
        *_table(STATS.injected, races=False),
        "  races injected (before operation x kind):",
        *_table(STATS.injected, races=True),
        f"  interleavings:       {STATS.interleavings}  "
        + (
            "(two invocations of one id taking turns at drawn AWS calls, each a serial-order check)"
            if intake.judge.interleaves
            else "(none drawn: the handler makes the ids, so no two invocations share one)"
        ),
        "  request spellings (valid requests, each spelled anew for every invocation):",
        *_spellings(STATS.encodings),
        "",
    ]
    if verdict.passed:
        lines.append(
            "RESULT: PASS - every invariant held in every example, and every example ended live."
        )
        return "\n".join(lines)
    failures = verdict.failures
    if len(failures) == 1:
        lines.append(f"RESULT: FAIL - invariant {failures[0].invariant} broken.")
    elif failures:
        names = ", ".join(failure.invariant for failure in failures)
        lines.append(f"RESULT: FAIL - {len(failures)} invariants broken: {names}.")
    else:
        lines += ["RESULT: FAIL - the run failed without naming an invariant:", verdict.unexplained]
    for number, failure in enumerate(failures, 1):
        if len(failures) > 1:
            lines += ["", f"{number}. invariant {failure.invariant} broken"]
        lines += ["", "What broke:", *[f"  - {problem}" for problem in failure.problems]]
        lines += ["", "The shrunk failing run, as a story:"]
        lines += [f"  {i}. {step.text}" for i, step in enumerate(failure.story, 1)]
    lines += ["", "To run it again:", *[f"  {line}" for line in verdict.replay]]
    for saved in verdict.saved:
        lines.append(f"  python -m model.scenarios {shlex.quote(saved)}")
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


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
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
        "--seed",
        type=int,
        default=None,
        help="the random seed of a profile that is not derandomized (the report prints the one "
        "a run used, to run it again)",
    )
    parser.add_argument(
        "--backend",
        default=None,
        choices=backends.NAMES,
        help="where DynamoDB and SQS run (default: QUEUECHECK_BACKEND or moto, in-process); "
        "docs/backends.md",
    )
    parser.add_argument(
        "--report-html",
        default=None,
        metavar="PATH",
        help="also write the report as one self-contained HTML page here (PASS or FAIL): the "
        "failing runs as sequence diagrams, the coverage as a heatmap",
    )
    parser.add_argument(
        "--save-scenario",
        default=None,
        metavar="PATH",
        help="on failure, write the shrunk run as a scenario file here (one file per broken "
        "invariant: the first at PATH, the others beside it)",
    )
    return parser.parse_args(argv)


MAX_BUGS = 5
"""How many broken invariants one report names at most (a run each, and one more that
passes): enough to show a deep bug under shallow ones, not so many that a report on a handler
broken everywhere takes an hour."""


def find_every_bug(intake: Any, settings: Any) -> tuple[tuple[Any, ...], BaseException | None]:
    """Every bug a run can show, each with its own shrunk story, the shallowest first.

    Hypothesis reports one failure per run, shrunk; the next run switches that invariant off
    (``IntakeMachine.ignored``) so that what it finds next is another bug, shrunk on its own:
    a shallow bug (an error text leak) then cannot hide a deep one (lost messages). Hypothesis
    can report several failures of one run itself, but shrinks each from scratch, which took
    five minutes where this takes one."""
    from hypothesis.stateful import run_state_machine_as_test

    from model.harness.machine import machine_for
    from model.harness.story import LAST_FAILURE, LastFailure, forget_failures

    found: list[LastFailure] = []
    ignored: frozenset[str] = frozenset()
    for _ in range(MAX_BUGS):
        forget_failures()
        try:
            run_state_machine_as_test(machine_for(intake, ignored=ignored), settings=settings)  # type: ignore[no-untyped-call]
        except AssertionError as exc:
            if not LAST_FAILURE.story:
                return tuple(found), exc
            found.append(
                LastFailure(
                    list(LAST_FAILURE.story),
                    LAST_FAILURE.invariant,
                    LAST_FAILURE.problems,
                    tuple(sorted(ignored)),
                )
            )
            ignored |= {LAST_FAILURE.invariant.split(" (")[0]}
            continue
        break
    return tuple(sorted(found, key=lambda failure: len(failure.story))), None


def _replay(argv: Sequence[str], seed: int | None) -> tuple[str, ...]:
    """The command line that runs the same run again: the same arguments, and the seed where
    the profile draws at random (a derandomized profile replays by itself)."""
    kept: list[str] = []
    skip = False
    for argument in argv:
        if skip:
            skip = False
            continue
        if argument == "--seed":
            skip = True
            continue
        if not argument.startswith("--seed="):
            kept.append(argument)
    if seed is not None:
        kept += ["--seed", str(seed)]
    path = os.environ.get("PYTHONPATH")
    where = [f"PYTHONPATH={shlex.quote(path)}"] if path else []
    return (" ".join([*where, "queuecheck-verify", *map(shlex.quote, kept)]),)


SHRINK_S = 60.0
"""How long Hypothesis may shrink one failing run (its own limit is five minutes): a story a
minute of shrinking leaves is short enough to read, and a report of several bugs stays fast."""


def _cap_shrinking(seconds: float) -> None:
    from hypothesis.internal.conjecture import engine

    if not hasattr(engine, "MAX_SHRINKING_SECONDS"):
        raise RuntimeError(
            "this Hypothesis release has no engine.MAX_SHRINKING_SECONDS, which "
            "queuecheck-verify caps; install the version in constraints.txt"
        )
    setattr(engine, "MAX_SHRINKING_SECONDS", seconds)  # noqa: B010 - not a typed API


def _use_seed(seed: int) -> None:
    """Make Hypothesis draw from ``seed``: what pytest's ``--hypothesis-seed`` does."""
    import hypothesis.core

    if not hasattr(hypothesis.core, "global_force_seed"):
        raise RuntimeError(
            "this Hypothesis release has no hypothesis.core.global_force_seed, which "
            "queuecheck-verify --seed sets; install the version in constraints.txt"
        )
    setattr(hypothesis.core, "global_force_seed", seed)  # noqa: B010 - not a typed API


def main(argv: Sequence[str] | None = None) -> int:
    """Ctrl-C ends a run with one line and 130 (the shell's status for SIGINT), not a
    traceback: the handler's processes and the servers stop at exit, and no verdict is given
    for a run cut short."""
    interrupts.install()
    try:
        return _verify(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("queuecheck verify: interrupted (Ctrl-C); no verdict", file=sys.stderr)
        return 130


def _verify(argv: list[str]) -> int:
    args = _arguments(argv)
    for option, path in (
        ("--report-html", args.report_html),
        ("--save-scenario", args.save_scenario),
    ):
        problem = path and page.unwritable(path, option)
        if problem:
            return _usage_error(problem)

    from hypothesis import settings

    from model.harness.intake import load
    from model.harness.sandbox import start
    from model.harness.story import STATS

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
        backends.choose(
            args.backend or backends.default(pipeline.runtime if pipeline else "python")
        )
        start()
    except backends.BackendError as exc:
        return _usage_error(str(exc))
    noise = io.StringIO()
    try:  # what the handler prints while it is imported and probed is no part of the report
        with redirect_stderr(noise), redirect_stdout(noise):
            intake = load(handler_spec, pipeline)
    except HandlerLoadError as exc:
        return _usage_error(str(exc))
    seed = None
    if not settings().derandomize:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
        _use_seed(seed)
    overrides = settings(
        max_examples=args.max_examples or settings().max_examples,
        print_blob=False,  # the report says how to run it again, on the command line
        database=None,  # nothing written into the user's folder (.hypothesis/)
    )
    _cap_shrinking(SHRINK_S)
    STATS.reset()
    started = time.perf_counter()
    with redirect_stderr(noise):  # the handler's own error logs; the report tells the story
        failures, failure = find_every_bug(intake, overrides)
    interrupts.check()  # lost in a finaliser during the last steps: still no verdict
    seconds = time.perf_counter() - started
    unexplained = "" if failures or failure is None else f"  {failure!r}"
    saved: tuple[str, ...] = ()
    if failures and args.save_scenario:
        saved = _save(
            args.save_scenario,
            handler_spec,
            pipeline,
            args.pipeline,
            profile=profile,
            failures=failures,
        )
    verdict = Verdict(
        handler_spec, profile, seconds, failures, _replay(argv, seed), unexplained, saved
    )
    print(report(intake, verdict))
    if args.report_html:
        _write_page(args.report_html, intake, verdict)
    return 0 if verdict.passed else 1


def _write_page(path: str, intake: Any, verdict: Verdict) -> None:
    """The same run as one HTML page (``model.entrypoints.page``)."""
    began = time.perf_counter()
    replay = [
        *verdict.replay,
        *(f"python -m model.scenarios {shlex.quote(saved)}" for saved in verdict.saved),
    ]
    written = page.write(
        page.report(
            intake,
            handler=verdict.handler,
            profile=verdict.profile,
            seconds=verdict.seconds,
            failures=verdict.failures,
            replay=replay,
        ),
        path,
    )
    took = time.perf_counter() - began
    size = written.stat().st_size / 1024
    print(f"\nHTML report written to {written} ({size:.1f} KB, in {took:.2f} s)")


def _save(
    out: str,
    handler_spec: str,
    pipeline: Pipeline | None,
    pipeline_path: str,
    *,
    profile: str,
    failures: Sequence[Any],
) -> tuple[str, ...]:
    """One scenario file per failure: the shallowest at ``out``, each other beside it, named
    after its invariant."""
    from model.scenarios.writer import write_pipeline_scenario, write_scenario

    first = Path(out)
    paths = []
    for number, failure in enumerate(failures):
        name = failure.invariant.split(" (")[0]
        path = first if number == 0 else first.with_name(f"{first.stem}-{name}{first.suffix}")
        try:
            if pipeline:
                write_pipeline_scenario(
                    failure, path, handler=handler_spec, pipeline_path=pipeline_path
                )
            else:
                write_scenario(failure, path, handler=handler_spec, profile=profile)
        except Exception as exc:  # the report must not be lost to a scenario it could not write
            print(
                f"queuecheck verify: could not write {path} for {failure.invariant}: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                file=sys.stderr,
            )
            continue
        paths.append(str(path))
    return tuple(paths)


if __name__ == "__main__":
    sys.exit(main())
