"""A failing run as a sequence diagram, drawn as SVG on the server (it shows with scripts off).

One lane per party, left to right: the client (API Gateway), each invocation in the order it
first appears, the other actors, then DynamoDB, SQS and any other service called. Rows go top
to bottom in story order; each step is a block with its story line on top. Inside it: the
requests, one arrow per AWS call attempt from the invocation to the service (labelled with the
operation and attempt, its outcome shown by colour, dash AND a word, so it reads in print and
without colour), the races and switch points between the calls, then each answer back to the
client. The step that broke an invariant is banded and says what broke.

Every text from the run is cleaned and escaped (``text.escape``); what is cut short keeps its
full text in a ``<title>``. Colours come from CSS classes, so the page can restyle them for
dark mode and print.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import attrs

from model.report.text import clip, escape
from model.report.trace import FAULT_KINDS, SERVICE_ERROR, Call, Failure, Mark, Step

LANE_W = 150
MARGIN = 14
HEAD_H = 40
ROW_H = 24
BAND_H = 34  # a line of text, then the actor's dot or the hand-over arrow
CHAR_W = 6.7  # 11px DejaVu Sans Mono and its kin: 0.6 em a character
LANE_LABEL = 20  # characters in a lane's header

PartyKind = Literal["client", "invocation", "actor", "service"]
CLIENT = "client"
SERVICES = ("dynamodb", "sqs")

OUTCOMES: dict[str, tuple[str, str]] = {
    "passed": ("ok", "passed: the service answered"),
    "throttle": ("throttled", "throttled by the service (not applied; retryable)"),
    "server_error": ("5xx", "server error (not applied; retryable)"),
    "timeout": ("timeout", "timed out before it reached the service (not applied)"),
    "connection_error": ("no connection", "connection failed (not applied)"),
    "applied_lost": ("applied, reply lost", "applied, then the response was lost"),
    "access_denied": ("denied", "access denied (not retryable)"),
    "crash": ("CRASH", "the invocation died at this call (no answer at all)"),
    "error": ("error", "the service itself refused the call (nothing injected)"),
}
"""Outcome class -> (the word on the arrow, the legend's explanation)."""
ANSWERS: dict[str, str] = {
    "accepted": "accepted",
    "refused": "refused",
    "failed": "FAILED",
    "crashed": "CRASHED, no answer",
}


def outcome_class(outcome: str) -> str:
    """The CSS class suffix of an outcome: its fault kind, ``passed``, or ``error``."""
    return "error" if outcome.startswith(SERVICE_ERROR) else outcome


def outcome_word(outcome: str) -> str:
    if outcome.startswith(SERVICE_ERROR):
        return f"error {outcome.removeprefix(SERVICE_ERROR)}"
    return OUTCOMES[outcome][0]


@attrs.frozen
class Lane:
    party: str
    kind: PartyKind
    x: float

    @property
    def label(self) -> str:
        return {"client": "client / API Gateway", "dynamodb": "DynamoDB", "sqs": "SQS"}.get(
            self.party, self.party
        )


def parties(failure: Failure) -> list[tuple[str, PartyKind]]:
    """The diagram's parties, left to right, each once."""
    invocations: list[str] = []
    actors: list[str] = []
    services: list[str] = list(SERVICES)
    for step in failure.steps:
        for invocation in step.invocations:
            if invocation.name not in invocations:
                invocations.append(invocation.name)
        for call in step.calls:
            if call.service not in services:
                services.append(call.service)
    for step in failure.steps:
        named = [step.actor] + [m.actor for m in step.marks if m.kind == "race"]
        for actor in named:
            if actor is not None and actor not in invocations and actor not in actors:
                actors.append(actor)
    return [
        (CLIENT, "client"),
        *[(name, "invocation") for name in invocations],
        *[(name, "actor") for name in actors],
        *[(name, "service") for name in services],
    ]


def _title(full: str) -> str:
    return f"<title>{escape(full)}</title>"


def _label(x: float, y: float, room: float, full: str, cls: str = "label") -> str:
    """A one-line label from ``x`` (left-aligned) cut to the ``room`` pixels it has."""
    shown = escape(clip(full, int(room / CHAR_W)))
    return f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}">{shown}</text>'


def _arrow(x1: float, x2: float, y: float, cls: str) -> str:
    """A horizontal line from ``x1`` to ``x2`` with an arrowhead drawn as a path (no markers:
    they need ids, which several diagrams on one page would share)."""
    head = 7.0 if x2 >= x1 else -7.0
    return (
        f'<line class="{cls}" x1="{x1:.1f}" y1="{y:.1f}" x2="{x2 - head:.1f}" y2="{y:.1f}"/>'
        f'<path class="{cls} head" d="M{x2:.1f},{y:.1f} l{-head:.1f},-4 l0,8 z"/>'
    )


@attrs.define
class _Drawing:
    lanes: dict[tuple[PartyKind, str], Lane]
    width: float
    y: float = HEAD_H + 8
    parts: list[str] = attrs.Factory(list)

    def x(self, party: str, kind: PartyKind) -> float:
        return self.lanes[kind, party].x

    def who(self, party: str) -> Lane | None:
        """The lane of an actor named in a mark: an invocation's (a competing invocation, the
        one taking the turn), else another actor's."""
        return self.lanes.get(("invocation", party)) or self.lanes.get(("actor", party))

    def row(self, height: float = ROW_H) -> float:
        """Take the next row; its baseline for arrows."""
        self.y += height
        return self.y - 7

    def request(self, name: str, text: str) -> None:
        y = self.row()
        x1, x2 = self.x(CLIENT, "client"), self.x(name, "invocation")
        room = max(x2 - x1, 2 * LANE_W) - 10
        self.parts.append(
            f'<g class="request" data-to="{escape(name)}">{_title(f"{name} <- {text}")}'
            f"{_arrow(x1, x2, y, 'msg')}{_label(x1 + 6, y - 4, room, text)}</g>"
        )

    def call(self, call: Call) -> None:
        y = self.row()
        x1, x2 = self.x(call.by, "invocation"), self.x(call.service, "service")
        word = outcome_word(call.outcome)
        text = f"{call.operation} #{call.attempt} {word}"
        tip = f"{call.by}: {call.name} attempt {call.attempt}: {call.outcome}"
        self.parts.append(
            f'<g class="call o-{outcome_class(call.outcome)}" data-by="{escape(call.by)}" '
            f'data-service="{escape(call.service)}" data-operation="{escape(call.operation)}" '
            f'data-attempt="{call.attempt}" data-outcome="{escape(call.outcome)}">'
            f"{_title(tip)}{_arrow(x1, x2, y, 'wire')}"
            f"{_label(x1 + 6, y - 4, x2 - x1 - 14, text)}</g>"
        )

    def mark(self, mark: Mark, step: Step, index: int) -> None:
        y = self.row(BAND_H)
        top = y - BAND_H + 7
        symbol = "RACE" if mark.kind == "race" else "SWITCH"
        extra = ""
        lane = self.who(mark.actor) if mark.actor is not None else None
        if lane is not None:
            ax = lane.x
            if mark.kind == "switch" and index > 0:
                # from the invocation that made the last call to the one taking the turn
                giver = step.calls[index - 1].by
                if giver != mark.actor:
                    extra = _arrow(self.x(giver, "invocation"), ax, y - 4, "handover")
            if mark.kind == "race" and lane.kind == "actor":  # the actor writes the record
                extra += _arrow(ax, self.x("dynamodb", "service"), y - 4, "write")
            extra += f'<circle class="actor-dot" cx="{ax:.1f}" cy="{y - 4:.1f}" r="4"/>'
        self.parts.append(
            f'<g class="mark mark-{mark.kind}" data-before-call="{mark.before_call}" '
            f'data-actor="{escape(mark.actor or "")}">{_title(f"{symbol}: {mark.text}")}'
            f'<rect class="band" x="{MARGIN}" y="{top:.1f}" width="{self.width - 2 * MARGIN:.1f}" '
            f'height="{BAND_H - 2}"/>{extra}'
            f"{_label(MARGIN + 4, top + 11, self.width - 2 * MARGIN - 8, f'{symbol}: {mark.text}')}"
            "</g>"
        )

    def act(self, actor: str, text: str) -> None:
        y = self.row()
        x1, x2 = self.x(actor, "actor"), self.x("dynamodb", "service")
        self.parts.append(
            f'<g class="act" data-actor="{escape(actor)}">{_title(f"{actor}: {text}")}'
            f"{_arrow(x1, x2, y, 'wire')}{_label(x1 + 6, y - 4, abs(x2 - x1) - 14, text)}</g>"
        )

    def answer(self, name: str, kind: str, text: str) -> None:
        y = self.row()
        x1, x2 = self.x(name, "invocation"), self.x(CLIENT, "client")
        shown = f"{ANSWERS[kind]}: {text}" if text else ANSWERS[kind]
        room = max(x1 - x2, 2 * LANE_W) - 10
        cross = ""
        if kind == "crashed":
            cross = f'<path class="cross" d="M{x1 - 5:.1f},{y - 5:.1f} l10,10 m0,-10 l-10,10"/>'
        self.parts.append(
            f'<g class="answer a-{kind}" data-from="{escape(name)}" data-kind="{kind}">'
            f"{_title(f'{name} -> {shown}')}{_arrow(x1, x2, y, 'msg reply')}{cross}"
            f"{_label(x2 + 6, y - 4, room, shown)}</g>"
        )


def _step_rows(drawing: _Drawing, step: Step) -> None:
    marks = sorted(step.marks, key=lambda mark: mark.before_call)
    for invocation in step.invocations:
        drawing.request(invocation.name, invocation.request)
    if step.action == "actor" and step.actor is not None:
        drawing.act(step.actor, step.text)
    pending = iter(marks)
    upcoming = next(pending, None)
    for index, call in enumerate([*step.calls, None]):
        while upcoming is not None and upcoming.before_call == index:
            drawing.mark(upcoming, step, index)
            upcoming = next(pending, None)
        if call is not None:
            drawing.call(call)
    for invocation in step.invocations:
        drawing.answer(invocation.name, invocation.kind, invocation.answer)


def _lane_heads(lanes: dict[tuple[PartyKind, str], Lane], bottom: float) -> Iterator[str]:
    for lane in lanes.values():
        box = LANE_W - 16
        yield (
            f'<g class="lane lane-{lane.kind}" data-party="{escape(lane.party)}">'
            f"{_title(lane.label)}"
            f'<line class="lifeline" x1="{lane.x:.1f}" y1="{HEAD_H - 4}" x2="{lane.x:.1f}" '
            f'y2="{bottom:.1f}"/>'
            f'<rect class="head" x="{lane.x - box / 2:.1f}" y="6" width="{box}" '
            f'height="{HEAD_H - 12}" rx="4"/>'
            f'<text class="head-label" x="{lane.x:.1f}" y="{HEAD_H / 2 + 4:.1f}" '
            f'text-anchor="middle">{escape(clip(lane.label, LANE_LABEL))}</text></g>'
        )


def render(failure: Failure, number: int = 1) -> str:
    """The SVG of ``failure``'s run (an ``<svg>`` element, well-formed XML on its own)."""
    order = parties(failure)
    width = 2 * MARGIN + LANE_W * len(order)
    lanes = {
        (kind, party): Lane(party, kind, MARGIN + LANE_W * (i + 0.5))
        for i, (party, kind) in enumerate(order)
    }
    drawing = _Drawing(lanes, width)
    blocks: list[str] = []
    for step in failure.steps:
        top = drawing.y
        drawing.parts = []
        head_y = drawing.row(ROW_H)
        _step_rows(drawing, step)
        broke = ""
        if step.broke is not None:
            what = f"BROKE {step.broke.invariant}: " + "; ".join(step.broke.problems)
            y = drawing.row(ROW_H)
            broke = (
                f'<g class="broke-note">{_title(what)}'
                f"{_label(MARGIN + 8, y, width - 2 * MARGIN - 16, what, 'broke-label')}</g>"
            )
        height = drawing.y - top + 4
        drawing.y += 6
        classes = "step broke" if step.broke is not None else "step"
        line = f"{step.number}. {step.action}: {step.text}"
        blocks.append(
            f'<g class="{classes}" data-step="{step.number}" data-action="{step.action}">'
            f'<rect class="step-box" x="{MARGIN / 2}" y="{top + 2:.1f}" '
            f'width="{width - MARGIN:.1f}" height="{height:.1f}" rx="3"/>'
            f'<g class="step-head">{_title(line)}'
            f"{_label(MARGIN, head_y, width - 2 * MARGIN, line, 'step-label')}</g>"
            + "".join(drawing.parts)
            + broke
            + "</g>"
        )
    height = drawing.y + 10
    broken = failure.broken_step
    summary = f"The failing run that broke {failure.invariant}" + (
        f", at step {broken.number}" if broken is not None else ""
    )
    return (
        f'<svg class="sequence" data-failure="{number}" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'font-size="11">{_title(summary)}'
        + "".join(_lane_heads(lanes, height - 6))
        + "".join(blocks)
        + "</svg>"
    )


__all__ = ["FAULT_KINDS", "OUTCOMES", "outcome_class", "parties", "render"]
