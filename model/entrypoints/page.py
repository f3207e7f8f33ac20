"""A run as the HTML report shows it: ``model.report``'s values filled from the machine's story,
its counts and the intake it verified (``--report-html`` of queuecheck-verify and pytest).

The renderer is pure and knows nothing of the harness; this is where the two meet: each story
step already carries the picture the machine took of it (who made each call, races and switches
where they happened, the table and queue after it), so filling the report is a translation.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from model.harness.story import STATS, LastFailure
from model.report import html
from model.report.trace import Coverage, Failure, Header, Report, Stats

VERSIONS = ("queuecheck", "hypothesis", "moto", "boto3")
ALWAYS = (
    (
        "handler_always_answers",
        "Every invocation gives its event source an answer: raising, or returning what the "
        "source cannot answer with, is API Gateway's 502.",
    ),
    (
        "liveness",
        "Once faults stop, retrying what failed finishes it, and no record is left pending.",
    ),
)


def _versions() -> dict[str, str]:
    found = {}
    for name in VERSIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def failure(found: LastFailure, replay: Sequence[str]) -> Failure:
    """One broken invariant's shrunk run, step by step as the machine pictured it."""
    steps = [
        attrs.evolve(step.trace, number=number, text=step.text)
        for number, step in enumerate(found.story, 1)
        if step.trace is not None
    ]
    return Failure(
        found.invariant,
        tuple(found.problems),
        steps,
        tuple(step.text for step in found.story),
        tuple(replay),
    )


def backend_line() -> str:
    """Where DynamoDB and SQS ran, in the words of the report's header."""
    from model.harness.sandbox import start

    sandbox = start()
    if sandbox.servers is None:
        return "moto, in-process"
    ends = sandbox.servers.endpoints
    where = ends.dynamodb if ends.dynamodb == ends.sqs else f"{ends.dynamodb} + SQS {ends.sqs}"
    return f"{sandbox.backend} over HTTP at {where} (table by Scan, queue by recorded sends)"


def settings_line() -> str:
    """The Hypothesis settings in force, as the header shows them."""
    from hypothesis import settings

    current = settings()
    return (
        f"max_examples={current.max_examples}, steps per example<="
        f"{current.stateful_step_count}, derandomize={current.derandomize}"
    )


def report(
    intake: Any,
    *,
    handler: str,
    profile: str,
    seconds: float,
    failures: Sequence[LastFailure],
    replay: Sequence[str],
) -> Report:
    """The report of one run: who was verified and how, what it covered, what broke."""
    pipeline = intake.pipeline
    header = Header(
        handler=handler,
        pipeline=pipeline.origin if pipeline else None,
        runtime=pipeline.runtime if pipeline else "python",
        backend=backend_line(),
        checks=intake.judge.title,
        profile=profile,
        settings=settings_line(),
        replay=replay[0] if replay else "",
        versions=_versions(),
        status_attribute=pipeline.status if pipeline else "status",
    )
    stats = Stats(
        STATS.examples,
        STATS.steps,
        STATS.invocations,
        seconds,
        STATS.invariant_checks,
        STATS.log_lines,
    )
    coverage = Coverage.from_injected(STATS.injected, STATS.interleavings, STATS.encodings)
    return Report(
        header,
        stats,
        (*intake.judge.rules(), *ALWAYS),
        coverage,
        tuple(failure(found, replay) for found in failures),
    )


def unwritable(path: str | Path, option: str) -> str | None:
    """Why a file cannot be written at ``path`` (one line naming ``option``), or None: checked
    before a run starts, so that a mistyped path costs no run and ends no run in a traceback."""
    where = Path(path)
    if where.is_dir():
        return f"{option} {path}: is a folder; name the file to write"
    folder = where.parent
    if not folder.is_dir():
        return f"{option} {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"{option} {path}: the folder {folder} cannot be written to"
    return None


def write(report_: Report, path: str | Path) -> Path:
    return html.write(report_, path)
