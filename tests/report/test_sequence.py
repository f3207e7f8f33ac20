"""The sequence diagram, read back as XML and checked against the data it was drawn from."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from report.pages import by_class, has_class, svg_text, title

from model.report import sample, sequence
from model.report.trace import Call, Failure, Invocation, Mark, Step

FAILURES = {
    "interleaving": sample.fail_report().failures[0],
    "race": sample.fail_report().failures[1],
    "actor and liveness": sample.story_report().failures[0],
}
EVENTS = Failure(
    "queued_records_were_sent",
    steps=[
        Step(
            1,
            "invoke",
            "submit, with an event published on the way",
            invocations=[Invocation("invocation 1", "POST /orders {}", "202 {}")],
            calls=[
                Call.of("invocation 1", "dynamodb.PutItem"),
                Call.of("invocation 1", "events.PutEvents", 1, "server_error"),
                Call.of("invocation 1", "events.PutEvents", 2),
                Call.of("invocation 1", "sqs.SendMessage", 1, "crash"),
            ],
        )
    ],
)
FAILURES["another service"] = EVENTS
CASES = pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())


def draw(failure: Failure) -> ET.Element:
    return ET.fromstring(sequence.render(failure))


def expected_lanes(failure: Failure) -> list[str]:
    """Client, the invocations as they first appear, the other actors, DynamoDB, SQS, then any
    other service called, each once."""
    invocations = list(dict.fromkeys(i.name for s in failure.steps for i in s.invocations))
    actors = list(
        dict.fromkeys(
            name
            for step in failure.steps
            for name in [step.actor, *(m.actor for m in step.marks if m.kind == "race")]
            if name is not None and name not in invocations
        )
    )
    services = list(
        dict.fromkeys(["dynamodb", "sqs", *(c.service for s in failure.steps for c in s.calls)])
    )
    return ["client", *invocations, *actors, *services]


@CASES
def test_one_lane_per_party(failure: Failure) -> None:
    """Each party of the run has its lane, once, left to right in the expected order."""
    svg = draw(failure)
    assert expected_lanes(failure) == [lane.get("data-party") for lane in by_class(svg, "lane")]


def test_the_lanes_of_a_race_include_its_actor() -> None:
    """The consumer of a race is a party of its own, between the invocations and the services."""
    parties = [p for p, _ in sequence.parties(FAILURES["race"])]
    assert ["client", "invocation 3", "consumer", "dynamodb", "sqs"] == parties


@CASES
def test_one_arrow_per_recorded_call_with_its_outcome(failure: Failure) -> None:
    """Exactly the recorded attempts, in order, each from its invocation to its service, with
    its outcome as data, as a class (the colour) and as a word (for print and colour-blind
    readers)."""
    svg = draw(failure)
    arrows = by_class(svg, "call")
    recorded = [call for step in failure.steps for call in step.calls]
    assert [(c.by, c.service, c.operation, str(c.attempt), c.outcome) for c in recorded] == [
        (
            a.get("data-by"),
            a.get("data-service"),
            a.get("data-operation"),
            a.get("data-attempt"),
            a.get("data-outcome"),
        )
        for a in arrows
    ]
    lanes = {lane.get("data-party"): lane for lane in by_class(svg, "lane")}
    for call, arrow in zip(recorded, arrows, strict=True):
        assert has_class(arrow, f"o-{sequence.outcome_class(call.outcome)}")
        assert sequence.outcome_word(call.outcome).split()[0] in svg_text(arrow)
        line = arrow.find("line")
        assert line is not None
        start = lanes[call.by].find("line")
        end = lanes[call.service].find("line")
        assert start is not None and end is not None
        assert start.get("x1") == line.get("x1")
        assert float(end.get("x1", "0")) > float(line.get("x2", "0"))  # the head ends there


def test_every_outcome_has_its_own_word_and_class() -> None:
    """No two outcomes look alike, in colour or in words."""
    words = [word for word, _ in sequence.OUTCOMES.values()]
    assert len(set(words)) == len(words)
    assert {"passed", *sequence.FAULT_KINDS, "error"} == set(sequence.OUTCOMES)


@CASES
def test_the_step_that_broke_is_highlighted_with_what_broke(failure: Failure) -> None:
    """One step is banded as broken: the one whose data says so, naming the invariant."""
    svg = draw(failure)
    broken = [step for step in by_class(svg, "step") if has_class(step, "broke")]
    expected = failure.broken_step
    assert ([] if expected is None else [str(expected.number)]) == [
        s.get("data-step") for s in broken
    ]
    if expected is not None and expected.broke is not None:
        assert expected.broke.invariant in svg_text(broken[0])


@CASES
def test_every_step_is_drawn_in_story_order(failure: Failure) -> None:
    """One block per step, top to bottom as the story goes."""
    svg = draw(failure)
    steps = by_class(svg, "step")
    assert [str(s.number) for s in failure.steps] == [s.get("data-step") for s in steps]
    tops = [float(s.find("rect").get("y", "0")) for s in steps]  # type: ignore[union-attr]
    assert sorted(tops) == tops


@CASES
def test_races_and_switches_sit_between_their_calls(failure: Failure) -> None:
    """A mark is drawn after the calls before it and before the calls after it."""
    svg = draw(failure)
    for step, block in zip(failure.steps, by_class(svg, "step"), strict=True):
        ys = [float(a.find("line").get("y1", "0")) for a in by_class(block, "call")]  # type: ignore[union-attr]
        marks = by_class(block, "mark")
        assert [m.kind for m in step.marks] == [
            "race" if has_class(m, "mark-race") else "switch" for m in marks
        ]
        for mark, drawn in zip(step.marks, marks, strict=True):
            y = float(drawn.find("rect").get("y", "0"))  # type: ignore[union-attr]
            assert all(before < y for before in ys[: mark.before_call])
            assert all(after > y for after in ys[mark.before_call :])
            assert mark.text in title(drawn)


@CASES
def test_each_answer_goes_back_to_the_client(failure: Failure) -> None:
    """One answer per invocation, of its kind; a crash is marked as no answer at all."""
    svg = draw(failure)
    answers = by_class(svg, "answer")
    invocations = [i for step in failure.steps for i in step.invocations]
    assert [(i.name, i.kind) for i in invocations] == [
        (a.get("data-from"), a.get("data-kind")) for a in answers
    ]
    requests = by_class(svg, "request")
    assert [i.name for i in invocations] == [r.get("data-to") for r in requests]


def test_a_crashed_invocation_answers_nothing() -> None:
    """Its answer row is crossed out and says so."""
    failure = Failure(
        "handler_always_answers",
        steps=[
            Step(
                1,
                "invoke",
                "crash",
                [Invocation("invocation 1", "POST /messages", "", "crashed")],
                [Call.of("invocation 1", "sqs.SendMessage", 1, "crash")],
            )
        ],
    )
    (answer,) = by_class(draw(failure), "answer")
    assert by_class(answer, "cross")
    assert "CRASHED" in svg_text(answer)


def test_an_actor_outside_any_invocation_writes_to_the_table() -> None:
    """An ``actor`` step is an arrow from the actor's lane to DynamoDB's."""
    svg = draw(FAILURES["actor and liveness"])
    (act,) = by_class(svg, "act")
    assert "consumer" == act.get("data-actor")


def test_a_long_text_is_cut_and_kept_whole_in_its_tooltip() -> None:
    """Labels fit their room; the full text is in the ``<title>``."""
    request = "POST /messages " + "x" * 5000
    failure = Failure(
        "x",
        steps=[Step(1, "invoke", "s" * 3000, [Invocation("A", request, "202 " + "y" * 4000)])],
    )
    svg = draw(failure)
    (drawn,) = by_class(svg, "request")
    assert request in title(drawn)
    assert svg_text(drawn).endswith("\u2026")
    width = float(svg.get("width", "0"))
    for text in svg.iter("text"):
        assert len("".join(text.itertext())) * sequence.CHAR_W <= width


def test_marks_on_a_lane_point_at_their_actor() -> None:
    """A race's actor gets a dot on its lane; a switch points at the invocation taking the
    turn."""
    svg = draw(FAILURES["interleaving"])
    switches = by_class(svg, "mark-switch")
    assert ["B", "A"] == [m.get("data-actor") for m in switches]
    assert all(by_class(m, "handover") for m in switches)
    (race,) = by_class(draw(FAILURES["race"]), "mark-race")
    assert "consumer" == race.get("data-actor")
    assert by_class(race, "actor-dot")


def test_an_unrecorded_mark_index_is_refused_before_drawing() -> None:
    """The data refuses a mark beyond the calls, so the diagram never has to guess."""
    with pytest.raises(ValueError, match="mark before call"):
        Step(1, "invoke", "x", [Invocation("A", "r")], [], [Mark("switch", 3, "?")])
