"""logs_carry_no_payload: what a handler logs never shows a payload (DESIGN.md section 1)."""

from oracle.build import snapshot

from model.core.invariants import CANARY, Memory, Step, logs_carry_no_payload

BODY = '{"type": "order.created", "payload": {"note": "call me on 0123"}}'


def step(*logs: str) -> Step:
    return Step(snapshot(), snapshot(), logs=logs, body=BODY)


def test_ids_types_and_outcomes_may_be_logged():
    assert [] == logs_carry_no_payload(
        step('{"messageId": "m-1", "type": "order.created", "outcome": "queued"}'), Memory()
    )


def test_a_canary_in_any_line_is_a_leak():
    problems = logs_carry_no_payload(
        step("ok", f"payload={{'canary': '{CANARY}1a2b3c4d'}}"), Memory()
    )
    assert 1 == len(problems) and CANARY in problems[0]


def test_the_body_as_sent_is_a_leak():
    assert 1 == len(logs_carry_no_payload(step(f"received {BODY}"), Memory()))


def test_a_short_body_is_not_searched_for():
    """A body of a few characters ('{}') would match innocent lines; only its canary counts."""
    short = Step(snapshot(), snapshot(), logs=("parsed {} fields",), body="{}")
    assert [] == logs_carry_no_payload(short, Memory())
