"""The run as one self-contained HTML page: ``render(report)`` gives it, ``write`` saves it.

Jinja2 with autoescaping renders ``page.html.j2``; every value from the run passes through
``text.clean`` on its way out (``finalize``), so a lone surrogate or a NUL in a record cannot
break the page or the file. The page has inline CSS and inline SVG only, no script, and a
Content-Security-Policy that lets it fetch nothing; it reads in print and in dark mode.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import jinja2
from markupsafe import Markup

from model.report import sequence
from model.report.text import clean, clip
from model.report.trace import Coverage, Failure, Report, Step

CELL = 48  # characters of an attribute shown in the record table (the rest in its tooltip)
BODY = 160  # characters of a message body shown


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return clean(value)
    return value


@functools.cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["clip"] = clip
    text = resources.files("model.report").joinpath("page.html.j2").read_text(encoding="utf-8")
    return environment.from_string(text)


@attrs.frozen
class Cell:
    text: str
    full: str
    changed: bool = False
    was: str | None = None
    """For a changed status: the status before."""


@attrs.frozen
class RecordRow:
    step: Step
    label: str
    cells: tuple[Cell, ...]
    present: bool
    appeared: bool
    """Present now, absent before (or the reverse, when not ``present``)."""
    inside: bool = False
    """Observed inside the step (after a race's actor, at a switch), not after it."""


@attrs.frozen
class RecordTable:
    record_id: str
    columns: tuple[str, ...]
    rows: tuple[RecordRow, ...]


@attrs.frozen
class QueueRow:
    step: Step
    record_id: str
    bodies: tuple[str, ...]
    before: int


Observation = tuple[Step, str, dict[str, dict[str, str]], bool]


def observations(failure: Failure) -> list[Observation]:
    """Every observation of the table in story order: inside each step, at each mark that has
    one; then after the step."""
    seen: list[Observation] = []
    for step in failure.steps:
        for mark in sorted(step.marks, key=lambda mark: mark.before_call):
            if mark.records_after is not None:
                when = "after the race" if mark.kind == "race" else "at the switch"
                label = f"{step.number}. {when}"
                seen.append((step, label, mark.records_after, True))
        seen.append((step, f"{step.number}. {step.action}", step.records_after, False))
    return seen


def record_tables(failure: Failure, status: str) -> list[RecordTable]:
    """For each record the run touched, its attributes at every observation, changes flagged."""
    seen = observations(failure)
    ids: list[str] = []
    for _, _, records, _ in seen:
        ids += [record_id for record_id in records if record_id not in ids]
    tables = []
    for record_id in ids:
        columns: list[str] = [status]
        for _, _, records, _ in seen:
            columns += [name for name in records.get(record_id, {}) if name not in columns]
        rows = []
        previous: Mapping[str, str] | None = None
        for index, (step, label, records, inside) in enumerate(seen):
            record = records.get(record_id)
            cells = []
            for name in columns:
                value = (record or {}).get(name, "")
                old = (previous or {}).get(name, "")
                changed = record is not None and previous is not None and value != old
                was = old if changed and name == status and old else None
                cells.append(Cell(clip(value, CELL), clean(value), changed, was))
            appeared = index > 0 and (record is None) != (previous is None)
            rows.append(RecordRow(step, label, tuple(cells), record is not None, appeared, inside))
            previous = record
        tables.append(RecordTable(record_id, tuple(columns), tuple(rows)))
    return tables


def queue_rows(failure: Failure) -> list[QueueRow]:
    """The steps after which the queue's messages for a record changed, with all of them."""
    rows = []
    before: dict[str, tuple[str, ...]] = {}
    for step in failure.steps:
        for record_id in sorted({*before, *step.messages_after}):
            now = step.messages_after.get(record_id, ())
            if now != before.get(record_id, ()):
                rows.append(QueueRow(step, record_id, now, len(before.get(record_id, ()))))
        before = dict(step.messages_after)
    return rows


@attrs.frozen
class HeatCell:
    operation: str
    kind: str
    count: int
    shade: float


def heatmap(
    counts: Mapping[tuple[str, str], int], coverage: Coverage, kinds: tuple[str, ...]
) -> list[tuple[str, list[HeatCell]]]:
    """Rows of operations by columns of kinds; the shade grows with the log of the count, so
    17 and 180 both show, and 0 (never injected: a gap) stays blank."""
    top = max(counts.values(), default=0)
    rows = []
    for operation in coverage.operations:
        cells = []
        for kind in kinds:
            n = counts.get((operation, kind), 0)
            shade = 0.12 + 0.88 * math.log1p(n) / math.log1p(top) if n and top else 0.0
            cells.append(HeatCell(operation, kind, n, round(shade, 3)))
        rows.append((operation, cells))
    return rows


def render(report: Report) -> str:
    """The report as one HTML page, as text."""
    failures = [
        {
            "failure": failure,
            "number": number,
            "svg": Markup(sequence.render(failure, number)),  # sequence.render escapes every text
            "records": record_tables(failure, report.header.status_attribute),
            "queue": queue_rows(failure),
        }
        for number, failure in enumerate(report.failures, 1)
    ]
    coverage = report.coverage
    return _template().render(
        report=report,
        failures=failures,
        faults=heatmap(coverage.faults, coverage, coverage.fault_kinds),
        races=heatmap(coverage.races, coverage, coverage.race_kinds),
        outcomes=[(name, word, explained) for name, (word, explained) in sequence.OUTCOMES.items()],
        answers=sequence.ANSWERS,
    )


def write(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write the page to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(render(report), encoding="utf-8")
    return out
