"""The main job: verify a handler with the state machine and print a report a person reads.

    python -m model.verify                                 # the reference, thorough profile
    python -m model.verify --handler mypkg.app:handler     # your handler (from PYTHONPATH)

``tox -e verify`` runs this. Exit status 0 means PASS, 1 a broken invariant (the report
tells the story of the shrunk failing run), 2 a usage problem.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import redirect_stderr

from model import profiles
from model.driver import DEFAULT_HANDLER, HandlerLoadError, load_handler


def _table(counter: Counter[tuple[str, str]], races: bool) -> list[str]:
    rows = sorted(
        (op, kind, n) for (op, kind), n in counter.items() if kind.startswith("race:") == races
    )
    if not rows:
        return ["    (none)"]
    width = max(len(op) for op, _, _ in rows)
    return [f"    {op:<{width}}  {kind.removeprefix('race:'):<20} {n:>6}" for op, kind, n in rows]


def report(handler_spec: str, profile: str, seconds: float, failure: BaseException | None) -> str:
    from hypothesis import settings

    from model.invariants import INVARIANTS
    from model.machine import LAST_FAILURE, STATS

    current = settings()
    lines = [
        "queuecheck verify",
        f"  handler:    {handler_spec}",
        f"  profile:    {profile} (max_examples={current.max_examples}, "
        f"steps per example<={current.stateful_step_count}, derandomize={current.derandomize})",
        "",
        f"  examples run:        {STATS.examples}",
        f"  steps run:           {STATS.steps}  ({STATS.invocations} handler invocations)",
        f"  steps per second:    {STATS.steps / seconds:.0f}  ({seconds:.1f} s in all)",
        f"  invariants checked:  {STATS.invariant_checks}  "
        f"({len(INVARIANTS)} invariants after every step, liveness at the end of every example)",
        "  faults injected (operation x kind, attempts):",
        *_table(STATS.injected, races=False),
        "  races injected (before operation x kind):",
        *_table(STATS.injected, races=True),
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model.verify", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--handler", default=DEFAULT_HANDLER, help="module:function to verify")
    parser.add_argument(
        "--profile",
        default=None,
        help="hypothesis profile (default: HYPOTHESIS_PROFILE or thorough)",
    )
    parser.add_argument(
        "--max-examples", type=int, default=None, help="override the profile's max_examples"
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

    from model.machine import LAST_FAILURE, machine_for
    from model.sandbox import start

    profile = profiles.load(args.profile or os.environ.get("HYPOTHESIS_PROFILE") or "thorough")
    start()
    try:
        handler = load_handler(args.handler)
    except HandlerLoadError as exc:
        print(f"queuecheck verify: {exc}", file=sys.stderr)
        return 2
    overrides = settings(max_examples=args.max_examples) if args.max_examples else settings()
    failure: BaseException | None = None
    started = time.perf_counter()
    noise = io.StringIO()
    try:
        with redirect_stderr(noise):  # the handler's own error logs; the report tells the story
            run_state_machine_as_test(machine_for(handler), settings=overrides)  # type: ignore[no-untyped-call]
    except AssertionError as exc:
        failure = exc
    print(report(args.handler, profile, time.perf_counter() - started, failure))
    if failure is not None and args.save_scenario:
        from model.scenario_writer import write_scenario

        path = write_scenario(LAST_FAILURE, args.save_scenario, handler=args.handler)
        print(f"\nScenario written to {path}; run it with:")
        print(f"  python -m model.scenarios --handler {args.handler} {path}")
        print(
            "  (move it into scenarios/ to keep it: pytest tests/scenarios runs scenarios/*.toml)"
        )
    return 0 if failure is None else 1


if __name__ == "__main__":
    sys.exit(main())
