"""Hypothesis strategies for the requests the harness sends: valid, colliding, and broken ones."""

from __future__ import annotations

import json
from typing import Any

import attrs
from hypothesis import strategies as st

from model.core.events import Encoding, api_event, submit_event
from model.core.invariants import canary
from model.core.plans import OPERATIONS, Fault, FaultKind, Race, RaceKind, Switches

# A small pool of ids and types makes duplicates and conflicts likely.
MESSAGE_IDS = ("order-1", "order-2", "invoice_7", "A", "m-" + "x" * 124)
TYPES = ("order.created", "invoice:paid", "user-signup", "Z")
# Hypothesis draws (and shrinks towards) the first entries most: the calls whose failure
# tests rollback and resumption come first, and a fault that outlasts the SDK's retries.
SUBMIT_OPERATIONS = ("sqs.SendMessage", "dynamodb.UpdateItem", "dynamodb.PutItem")


@attrs.frozen
class SubmitRequest:
    """A ``POST /messages`` the harness sends; its repr is the story line Hypothesis prints."""

    type: str
    payload: dict[str, Any]
    attributes: dict[str, str] | None = None
    message_id: str | None = None
    id_in: str = "body"  # "body", "header" (Idempotency-Key) or "content" (derived)

    def body(self) -> dict[str, Any]:
        document: dict[str, Any] = {"type": self.type, "payload": with_canary(self.payload)}
        if self.attributes is not None:
            document["attributes"] = self.attributes
        if self.message_id is not None and self.id_in == "body":
            document["messageId"] = self.message_id
        return document

    def encoding(self, request_id: str) -> Encoding:
        """The spelling of this request in the invocation ``request_id``: chosen by both, so
        the first request of every example is not always spelled the same way, and a
        resubmission (a new request id) is spelled anew."""
        return Encoding.derived(f"{request_id} {self!r}")

    def event(self, request_id: str) -> dict[str, Any]:
        """The request as API Gateway hands it over, in an encoding chosen by its request id."""
        encoding = self.encoding(request_id)
        headers = {encoding.header("Content-Type"): encoding.media_type}
        if self.message_id is not None and self.id_in == "header":
            headers[encoding.header("Idempotency-Key")] = self.message_id
        event = api_event(
            "POST",
            "/messages",
            encoding.text(self.body()),
            headers,
            base64_encoded=encoding.base64,
            request_id=request_id,
        )
        if encoding.headers_in == "headers":
            event["multiValueHeaders"] = None
        elif encoding.headers_in == "multiValueHeaders":
            event["headers"] = None
        return event

    def with_payload(self, payload: dict[str, Any]) -> SubmitRequest:
        return attrs.evolve(self, payload=payload)


def with_canary(content: Any) -> Any:
    """The content with a value no log may ever show (DESIGN.md: no payloads in logs): a key of
    an object, the end of a text, an item of a list. It is derived from the content, not drawn,
    so it costs the shrinker nothing. A number, a boolean or null cannot carry one."""
    if isinstance(content, dict):
        return {**content, "canary": canary(content)}
    if isinstance(content, str):
        return f"{content} {canary(content)}"
    if isinstance(content, list):
        return [*content, canary(content)]
    return content


json_scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.text(st.characters(codec="utf-8"), max_size=8),
)
payloads = st.dictionaries(
    st.sampled_from(["sku", "qty", "note", "ünï", "nested"]),
    st.one_of(
        json_scalars,
        st.lists(json_scalars, max_size=3),
        st.dictionaries(st.just("k"), json_scalars),
    ),
    max_size=3,
)
texts = st.text(st.characters(codec="utf-8"), max_size=12)
# Content of every JSON kind, for an intake whose content is "any" JSON value.
any_content = st.one_of(payloads, texts, json_scalars, st.lists(json_scalars, max_size=3))
CONTENT = {"object": payloads, "string": texts, "any": any_content}
attribute_maps = st.none() | st.dictionaries(
    st.sampled_from(["source", "tenant", "trace.id"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=12),
    max_size=2,
)


@st.composite
def submit_requests(draw: st.DrawFn) -> SubmitRequest:
    id_in = draw(st.sampled_from(["body", "body", "header", "content"]))
    message_id = None if id_in == "content" else draw(st.sampled_from(MESSAGE_IDS))
    return SubmitRequest(
        draw(st.sampled_from(TYPES)), draw(payloads), draw(attribute_maps), message_id, id_in
    )


def _invalid_events() -> list[tuple[str, dict[str, Any]]]:
    good = {"type": "order.created", "payload": {"sku": 1}}
    big = json.dumps({**good, "payload": {"blob": "x" * 262_144}})
    return [
        ("broken JSON", submit_event('{"type": "order.created", "payload": {')),
        ("NaN in JSON", submit_event('{"type": "t", "payload": {"x": NaN}}')),
        ("lone surrogate", submit_event('{"type": "t", "payload": {"x": "\\ud800"}}')),
        ("lone surrogate character", submit_event('{"type": "t", "payload": {"x": "\ud800"}}')),
        ("number too large", submit_event('{"type": "t", "payload": {"x": 1e400}}')),
        ("duplicate key", submit_event('{"type": "t", "type": "u", "payload": {}}')),
        ("body is a list", submit_event("[1, 2]")),
        ("no body", api_event("POST", "/messages", None, {"Content-Type": "application/json"})),
        ("missing type", submit_event({"payload": {}})),
        ("type starts with a digit", submit_event({"type": "9lives", "payload": {}})),
        ("payload is a string", submit_event({"type": "t", "payload": "x"})),
        ("unknown field", submit_event({**good, "priority": 1})),
        ("messageId with a space", submit_event({**good, "messageId": "a b"})),
        ("messageId too long", submit_event({**good, "messageId": "m" * 129})),
        (
            "Idempotency-Key differs from messageId",
            submit_event({**good, "messageId": "order-1"}, {"Idempotency-Key": "order-2"}),
        ),
        (
            "eleven attributes",
            submit_event({**good, "attributes": {f"a{i}": "v" for i in range(11)}}),
        ),
        ("reserved attribute name", submit_event({**good, "attributes": {"AWS.trace": "v"}})),
        ("empty attribute value", submit_event({**good, "attributes": {"a": ""}})),
        ("attribute value not a string", submit_event({**good, "attributes": {"a": 1}})),
        ("attributes is a list", submit_event({**good, "attributes": ["a"]})),
        (
            "invalid base64 body",
            api_event(
                "POST",
                "/messages",
                "%%%",
                {"Content-Type": "application/json"},
                base64_encoded=False,
            )
            | {"isBase64Encoded": True},
        ),
        (
            "invalid UTF-8 body",
            api_event(
                "POST",
                "/messages",
                b'{"type":"t","payload":{"x":"\xff"}}',
                {"Content-Type": "application/json"},
                base64_encoded=True,
            ),
        ),
        ("body over 256 KiB", submit_event(big)),
        ("text/plain body", submit_event(good, {"Content-Type": "text/plain"})),
        ("application/xml body", submit_event(good, {"Content-Type": "application/xml"})),
        ("Idempotency-Key with a space", submit_event(good, {"Idempotency-Key": "a b"})),
        (
            "charset with a second '='",
            submit_event(good, {"Content-Type": "application/json; charset=utf-8=x"}),
        ),
        (
            "latin-1 charset",
            submit_event(good, {"Content-Type": "application/json; charset=latin-1"}),
        ),
        (
            "unknown route",
            api_event("POST", "/orders", json.dumps(good), {"Content-Type": "application/json"}),
        ),
        (
            "DELETE a message",
            api_event("DELETE", "/messages/order-1", path_parameters={"messageId": "order-1"}),
        ),
        ("GET the collection", api_event("GET", "/messages")),
        ("not an API Gateway event", {"hello": "world"}),
    ]


INVALID_EVENTS = _invalid_events()
invalid_events = st.sampled_from(INVALID_EVENTS)

fault_kinds = st.sampled_from(list(FaultKind))
durations = st.sampled_from([None, 1, 5, 2])  # always, once, N times
faults = st.builds(
    Fault,
    operation=st.sampled_from(OPERATIONS),
    kind=fault_kinds,
    times=durations,
    after=st.integers(0, 2),
)
# Faults for the submission they are planned with: on its own calls, from its first attempt on.
submit_faults = st.builds(
    Fault,
    operation=st.sampled_from(SUBMIT_OPERATIONS),
    kind=fault_kinds,
    times=durations,
    after=st.sampled_from([0, 0, 1]),
)
# For a lookup: mostly none; else its one read fails, once or for good.
lookup_faults = (
    st.none()
    | st.none()
    | st.builds(Fault, operation=st.just("dynamodb.GetItem"), kind=fault_kinds, times=durations)
)
races = st.builds(
    Race,
    operation=st.sampled_from(SUBMIT_OPERATIONS),
    kind=st.sampled_from(list(RaceKind)),
    after=st.sampled_from([0, 0, 1]),
)
other_actors = st.sampled_from(["consumer moves on", "another writer annotates", "record expires"])
# Two invocations of one id, interleaved: the same request twice (a client's retry racing the
# original), or other content (two clients that picked the same id).
TWINS = ("the same request", "other content under the same id")
twins = st.sampled_from(TWINS)
# A calm submission makes three AWS calls: switch points past four change nothing.
switches = st.builds(Switches, st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple))
