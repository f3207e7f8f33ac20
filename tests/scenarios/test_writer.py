"""A failing run of the state machine becomes a scenario file that fails on the broken handler
and passes on the reference; the TOML it writes reads back as written."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.core.contract import judge
from model.harness import strategies
from model.harness.machine import StoryStep
from model.scenarios import writer as scenario_writer
from model.scenarios.check import load
from model.scenarios.format import Request, ScenarioFailed, parse
from model.scenarios.runner import run

VARIANT = "no_retry_after"


def test_failing_run_becomes_a_scenario_red_on_the_variant_green_on_the_reference(
    tmp_path, zoo, reference_handler, sandbox
):
    """The writer's file reproduces the variant's failure and holds on the reference."""
    out = tmp_path / "found.toml"
    written = scenario_writer.write(f"stateful.zoo:{VARIANT}", out)

    assert written is not None and out == written.path
    scenario = load(out)
    run(scenario, reference_handler)
    with pytest.raises(ScenarioFailed):
        run(scenario, getattr(zoo, VARIANT))
    text = out.read_text(encoding="utf-8")
    assert f"# Found on stateful.zoo:{VARIANT} by model.scenarios.writer" in text
    assert "# the failing run: " in text


@pytest.mark.zoo
def test_an_interleaving_becomes_an_interleave_step(tmp_path, zoo, reference_handler, sandbox):
    """A bug only two interleaved invocations show is written as an ``interleave`` step, with
    the same switch points, and the file fails on the variant as the run did."""
    out = tmp_path / "interleaved.toml"
    written = scenario_writer.write("stateful.zoo:condition_failure_as_own", out)

    assert written is not None
    steps = tomllib.loads(out.read_text(encoding="utf-8"))["step"]
    assert [step["do"] for step in steps if step["do"] == "interleave"]
    scenario = load(out)
    run(scenario, reference_handler)
    with pytest.raises(ScenarioFailed, match="a_serial_order_explains_them"):
        run(scenario, zoo.condition_failure_as_own)


def test_rendered_toml_reads_back_as_written():
    """Quotes, backslashes, control characters, non-ASCII text and dotted keys survive."""
    document = {
        "name": 'a "quoted" \\ name',
        "description": 'line one\nline "two" with """ inside\n',
        "liveness": True,
        "step": [
            {
                "do": "submit",
                "message": {
                    "type": "t",
                    "payload": {"ünï": "a\tb\x01", "trace.id": [1, 2.5, True, {}]},
                },
                "headers": {"Idempotency-Key": "k-1"},
                "expect": {"status": 202, "record": {"status": "QUEUED"}, "queue": {"messages": 1}},
            },
            {"do": "retry", "of": 1, "expect": {"competitor": {"status": 202}}},
        ],
    }
    text = scenario_writer.render(document, [["a comment"], []], ["a header"])
    assert document == tomllib.loads(text)


@pytest.mark.parametrize(
    "case", strategies.INVALID_EVENTS, ids=[name for name, _ in strategies.INVALID_EVENTS]
)
def test_every_invalid_event_of_the_harness_can_be_written_as_a_step(case, tmp_path):
    """Each invalid request the state machine sends becomes step keys that send the same event
    again, or one the contract judges the same way (the file then says why)."""
    _name, event = case
    keys, note = scenario_writer.request_keys(event)
    step = parse({"name": "n", "description": "d", "step": [keys]}, tmp_path / "x.toml").steps[0]
    assert step.request is not None
    again = step.request.event(event.get("requestContext", {}).get("requestId", "req-0"))
    if note is None:
        assert event == again
    else:
        assert judge(event) == judge(again)


def test_a_liveness_failure_ends_before_the_retries_and_asks_for_liveness():
    """The retries after "faults stop" are the liveness check's own: the scenario asks for it."""
    event = Request(message={"messageId": "m-1", "type": "t", "payload": {}}).event("req-1")
    story = (
        StoryStep(
            "invoke", {"event": event, "status": 503, "code": "SYSTEM_ERROR"}, "submit -> 503"
        ),
        StoryStep("clear", {}, "faults stop"),
        StoryStep("invoke", {"event": event, "status": 503}, "liveness: retry -> 503"),
    )
    found = scenario_writer.Found("x:y", "liveness", ("stuck",), story)
    steps, _comments, liveness = scenario_writer.draft(found)
    assert (True, 1) == (liveness, len(steps))
    assert {"do": "submit", "message": {"messageId": "m-1", "type": "t", "payload": {}}} == steps[0]


@given(st.text(st.characters(codec="utf-8")))
def test_any_text_reads_back_from_a_multi_line_string(text):
    """A problem's text (a pydantic message with backslashes and newlines, quotes in a JSON
    body) goes into a written scenario's description and must read back as it was."""
    import tomllib

    from model.scenarios.writer import _multiline

    assert text == tomllib.loads(f"d = {_multiline(text)}")["d"]
