"""logs_carry_no_payload: what a handler logs never shows a payload (DESIGN.md section 1)."""

from oracle.build import snapshot

from model.core.invariants import Memory, Step, logs_carry_no_payload

BODY = '{"type": "order.created", "payload": {"note": "call me on 0123"}}'


def step(*logs: str) -> Step:
    return Step(snapshot(), snapshot(), logs=logs, body=BODY)


def test_ids_types_and_outcomes_may_be_logged():
    """A line with the message's id, type and outcome shows no payload."""
    assert [] == logs_carry_no_payload(
        step('{"messageId": "m-1", "type": "order.created", "outcome": "queued"}'), Memory()
    )


def test_a_canary_in_any_line_is_a_leak():
    """A line that shows a generated payload's canary value is reported, that line alone."""
    problems = logs_carry_no_payload(
        step("ok", "payload={'canary': 'qc-canary-1a2b3c4d'}"), Memory()
    )
    expected = ["the handler logged payload content: \"payload={'canary': 'qc-canary-1a2b3c4d'}\""]
    assert expected == problems


def test_the_body_as_sent_is_a_leak():
    """A line that shows the request's body as it was sent is reported."""
    expected = [
        'the handler logged payload content: \'received {"type": "order.created", '
        '"payload": {"note": "call me on 0123"}}\''
    ]
    assert expected == logs_carry_no_payload(step(f"received {BODY}"), Memory())


def test_a_short_body_is_not_searched_for():
    """A body of a few characters ('{}') would match innocent lines; only its canary counts."""
    short = Step(snapshot(), snapshot(), logs=("parsed {} fields",), body="{}")
    assert [] == logs_carry_no_payload(short, Memory())
