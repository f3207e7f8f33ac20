"""Some serial order of two interleaved submissions must explain them, for any intake a pipeline
file describes: the kinds of the answers, the record's status, whose content the record holds,
and the new messages. Histories written by hand from the pipeline file's words (key template,
statuses, id_path) and canary values spelled out, never by running a handler."""

from __future__ import annotations

import json

from model.core.generic import Submit
from model.core.serial import Concurrent, a_serial_order_explains_them
from model.core.spec import parse
from model.core.views import Kind, Reply, View

PIPELINE = parse(
    {
        "event": {
            "source": "http",
            "method": "POST",
            "path": "/bookings",
            "id_field": "bookingId",
            "content_field": "booking",
        },
        "answer": {"accepted": [200, 201]},
        "table": {
            "env": "T",
            "key": {"bk": "BOOKING#{id}"},
            "status": "state",
            "pending": "HELD",
            "queued": "CONFIRMED",
            "later": ["FULFILLED"],
            "mutable": ["state"],
            "on_send_failure": "pending",
        },
        "queue": {"env": "Q", "id_path": "booking.id"},
    }
)
MINE, THEIRS = "qc-canary-aaaa1111", "qc-canary-bbbb2222"
ACCEPTED = Reply(Kind.ACCEPTED, 201, "{}")
REFUSED = Reply(Kind.REFUSED, 409, '{"message": "taken"}')
FAILED = Reply(Kind.FAILED, 500, '{"message": "oops"}')


def record(state: str, canary: str = MINE) -> dict[str, str]:
    return {"bk": "BOOKING#b-1", "state": state, "booking": f'{{"canary": "{canary}"}}'}


def message(canary: str | None = MINE) -> str:
    body = {"booking": {"id": "b-1"}}
    if canary is not None:
        body["booking"]["canary"] = canary
    return json.dumps(body)


def view(records: tuple[dict[str, str], ...] | list = (), messages: list[str] | tuple = ()) -> View:
    return View.of(PIPELINE, records, messages)


def pair(first: tuple[str, Reply], second: tuple[str, Reply]) -> list[Concurrent]:
    return [
        Concurrent("A", Submit("b-1", f"content of {first[0]}"), first[1], first[0]),
        Concurrent("B", Submit("b-1", f"content of {second[0]}"), second[1], second[0]),
    ]


def problems(
    invocations: list[Concurrent],
    after: View,
    before: View | None = None,
    stored: str | None = None,
) -> list[str]:
    return a_serial_order_explains_them(
        PIPELINE, "b-1", invocations, before=before or view(), after=after, stored=stored
    )


def test_the_same_request_twice_one_creates_the_other_finds_it():
    """One message, the record confirmed with that content, both accepted: A then B."""
    assert [] == problems(
        pair((MINE, ACCEPTED), (MINE, ACCEPTED)),
        view([record("CONFIRMED")], [message()]),
    )


def test_at_least_once_a_twin_may_send_its_message_again():
    """The second finds its twin's fresh record and resumes it: two messages are allowed."""
    assert [] == problems(
        pair((MINE, ACCEPTED), (MINE, ACCEPTED)),
        view([record("CONFIRMED")], [message(), message()]),
    )


def test_other_content_one_wins_the_other_is_refused():
    """Either order may explain it: the winner's content stays and is sent once."""
    assert [] == problems(
        pair((MINE, ACCEPTED), (THEIRS, REFUSED)),
        view([record("CONFIRMED", MINE)], [message(MINE)]),
    )


def test_two_winners_of_other_content_are_explained_by_no_order():
    """Both accepted, the record holds B's content, both messages went out (a check, then an
    unconditional write): neither A then B nor B then A leaves that."""
    found = problems(
        pair((MINE, ACCEPTED), (THEIRS, ACCEPTED)),
        view([record("CONFIRMED", THEIRS)], [message(THEIRS), message(MINE)]),
    )
    assert [
        "run as A then B: record BOOKING#b-1 holds other content than the winner's; "
        "1 new message(s) for b-1 carry content no serial run sends; "
        "2 new messages for b-1, at most 1 explained",
        "run as B then A: 1 new message(s) for b-1 carry content no serial run sends; "
        "2 new messages for b-1, at most 1 explained",
    ] == found


def test_a_valid_request_on_nothing_must_not_be_refused():
    """No record before: whichever runs first creates it, so a refusal of the first is no
    serial run's; the refused one must then be the second, of other content."""
    found = problems(
        pair((MINE, REFUSED), (MINE, ACCEPTED)),
        view([record("CONFIRMED")], [message()]),
    )
    assert [
        'run as A then B: A would be accepted, not 409 {"message": "taken"}',
        'run as B then A: A would be accepted, not 409 {"message": "taken"}',
    ] == found


def test_a_message_must_go_out_for_the_winner():
    """Both accepted, the record confirmed, and no message at all: lost."""
    found = problems(pair((MINE, ACCEPTED), (MINE, ACCEPTED)), view([record("CONFIRMED")]))
    assert [
        "run as A then B: 0 new message(s) for b-1, at least 1 needed",
        "run as B then A: 0 new message(s) for b-1, at least 1 needed",
    ] == found


def test_a_record_left_at_the_pending_status_is_no_serial_outcome():
    """A serial run leaves the record confirmed; HELD after both accepted is not explained."""
    found = problems(pair((MINE, ACCEPTED), (MINE, ACCEPTED)), view([record("HELD")], [message()]))
    assert [
        "run as A then B: record BOOKING#b-1 is HELD, not CONFIRMED",
        "run as B then A: record BOOKING#b-1 is HELD, not CONFIRMED",
    ] == found


def test_a_held_record_from_before_is_resumed_by_the_same_content():
    """Before the pair, the record was HELD with A's content (an earlier attempt failed): A
    resumes it and sends, B with other content is refused."""
    before = view([record("HELD", MINE)])
    assert [] == problems(
        pair((MINE, ACCEPTED), (THEIRS, REFUSED)),
        view([record("CONFIRMED", MINE)], [message(MINE)]),
        before=before,
        stored=MINE,
    )


def test_messages_without_content_are_judged_by_their_count():
    """An intake that sends only the id: no canary to tell whose, so the count decides."""
    assert [] == problems(
        pair((MINE, ACCEPTED), (THEIRS, REFUSED)),
        view([record("CONFIRMED", MINE)], [message(None)]),
    )
    found = problems(
        pair((MINE, ACCEPTED), (THEIRS, REFUSED)),
        view([record("CONFIRMED", MINE)], [message(None), message(None)]),
    )
    assert [
        "run as A then B: 2 new messages for b-1, at most 1 explained",
        'run as B then A: B would be accepted, not 409 {"message": "taken"}; '
        "record BOOKING#b-1 holds other content than the winner's; "
        "2 new messages for b-1, at most 1 explained",
    ] == found


def test_a_failure_is_no_serial_answer_when_nothing_went_wrong():
    """Interleavings run calm: a 5xx explains nothing."""
    found = problems(
        pair((MINE, ACCEPTED), (MINE, FAILED)), view([record("CONFIRMED")], [message()])
    )
    assert 2 == len(found) and all("B would be accepted" in line for line in found), found
