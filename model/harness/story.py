"""A run's story and its counts: what the report, ``--save-scenario`` and the benchmarks read.

Each step of the state machine tells one line of the story, kept structured (``StoryStep``) so
it can also become a scenario file; a broken invariant ends the story (``broken``) and keeps it
as the last failure. Hypothesis replays the shrunk failing run last, so after a failed run
``LAST_FAILURE`` holds the minimal story.
"""

from __future__ import annotations

import collections
from typing import Any, NoReturn

import attrs

from model.report.trace import Broken

STORY_LINES = 12


@attrs.frozen
class StoryStep:
    """One line of a run's story, kept structured so it can also become a scenario file and
    a sequence diagram (``trace``: a ``model.report.trace.Step`` whose number the report
    sets)."""

    action: str
    detail: dict[str, Any]
    text: str
    trace: Any = None


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
    interleavings: int = 0
    encodings: collections.Counter[str] = attrs.Factory(collections.Counter)
    """How the valid requests were spelled: one count per spelling feature seen."""

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


STATS = RunStats()


@attrs.define
class LastFailure:
    """The story of the last failing run: what ``--save-scenario`` writes out."""

    story: list[StoryStep] = attrs.Factory(list)
    invariant: str = ""
    problems: list[str] = attrs.Factory(list)
    ignored: tuple[str, ...] = ()
    """The invariants the run that found it had switched off (found broken before it): a
    replay switches them off too, so it fails on this one."""


LAST_FAILURE = LastFailure()
FAILURES: dict[str, LastFailure] = {}
"""The last failing run of each invariant: Hypothesis replays each distinct failure last, so
after a run that reports several bugs this holds each one's shrunk story."""


class InvariantBroken(AssertionError):
    """A broken invariant. Each invariant raises a subclass of its own (``failure_of``), so
    that Hypothesis tells the failures of different invariants apart and, asked to report
    every bug it finds, shrinks and reports each: a shallow bug then cannot hide a deep one."""

    invariant = ""


_KINDS: dict[str, type[InvariantBroken]] = {}


def failure_of(invariant_name: str) -> type[InvariantBroken]:
    """The exception class of one invariant (where in an invocation it broke aside)."""
    name = invariant_name.split(" (", maxsplit=1)[0]
    if name not in _KINDS:
        title = "".join(part.title() for part in name.split("_")) or "Invariant"
        kind = type(f"{title}Broken", (InvariantBroken,), {"invariant": name})
        kind.__module__ = __name__
        globals()[kind.__name__] = kind  # findable by name, as a class should be
        _KINDS[name] = kind
    return _KINDS[name]


def forget_failures() -> None:
    """Before a run: no failure of an earlier run counts."""
    FAILURES.clear()
    LAST_FAILURE.story, LAST_FAILURE.invariant, LAST_FAILURE.problems = [], "", []


def broken(invariant_name: str, problems: list[str], story: list[StoryStep]) -> NoReturn:
    """Keep the failing run for the report and ``--save-scenario``, and fail with its story:
    the broken invariant, what broke, and the last steps that led there."""
    if story and story[-1].trace is not None:  # the step that broke it, for the diagram
        last = story[-1]
        broke = Broken(invariant_name, tuple(problems))
        story[-1] = attrs.evolve(last, trace=attrs.evolve(last.trace, broke=broke))
    LAST_FAILURE.story, LAST_FAILURE.invariant = list(story), invariant_name
    LAST_FAILURE.problems = list(problems)
    FAILURES[invariant_name.split(" (", maxsplit=1)[0]] = LastFailure(
        list(story), invariant_name, list(problems)
    )
    recent = story[-STORY_LINES:]
    lines = [f"  {i}. {step.text}" for i, step in enumerate(recent, len(story) - len(recent) + 1)]
    listed = "\n".join(f"  - {problem}" for problem in problems)
    raise failure_of(invariant_name)(
        f"invariant {invariant_name} broken:\n{listed}\nthe story so far:\n" + "\n".join(lines)
    )
