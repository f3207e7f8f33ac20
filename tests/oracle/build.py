"""Hand-built values for the oracle's tests: records, queue messages, snapshots and answers.

Everything here is written from DESIGN.md section 1 directly (field names, shapes, the
public view), never by calling the model or the harness: canonical JSON is written out as
text, the fingerprint is a ``hashlib`` call over that text, so a test states what the
contract says and the model has to agree. Import as ``oracle.build`` (``pythonpath =
["tests"]``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from model.core.contract import Content
from model.core.invariants import Memory
from model.core.observed import Answer, QueueMessage, Snapshot

NOW = 1_700_000_000
TTL = NOW + 604_800
CREATED = "2023-11-14T22:13:20.000Z"
QUEUED_AT = "2023-11-14T22:13:20.250Z"
TABLE = "queuecheck-messages"
QUEUE_URL = "http://localhost:4566/000000000000/queuecheck-intake"

# What a submission says, as ``contract.judge`` hands it over: the type, the payload as
# canonical JSON text (sorted keys, no whitespace) and the attributes as sorted pairs.
ORDER = Content("order.created", '{"amount":12,"orderId":"o-1"}')
OTHER = Content("order.created", '{"amount":99,"orderId":"o-2"}')
TAGGED = Content("order.created", '{"orderId":"o-3"}', (("source", "web"), ("tenant", "acme")))
BARE = Content("t", "{}", ())
"""Attributes given, and empty."""
ONE = Content("t", '{"n":1}')
TRUE = Content("t", '{"n":true}')


def sha256(text: str) -> str:
    """SHA-256 hex of UTF-8 text: the contract's ``payloadHash`` of a canonical content text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen
class Written:
    """What the contract says a record and a queue message hold for one content, written out:
    the payload as a value, the attributes (None: not given), and ``payloadHash``, the SHA-256
    of canonical ``{attributes, payload, type}`` (absent attributes count as {})."""

    payload: dict[str, Any]
    attributes: dict[str, str] | None
    payload_hash: str


WRITTEN: dict[Content, Written] = {
    ORDER: Written(
        {"orderId": "o-1", "amount": 12},
        None,
        sha256('{"attributes":{},"payload":{"amount":12,"orderId":"o-1"},"type":"order.created"}'),
    ),
    OTHER: Written(
        {"orderId": "o-2", "amount": 99},
        None,
        sha256('{"attributes":{},"payload":{"amount":99,"orderId":"o-2"},"type":"order.created"}'),
    ),
    TAGGED: Written(
        {"orderId": "o-3"},
        {"tenant": "acme", "source": "web"},
        sha256(
            '{"attributes":{"source":"web","tenant":"acme"},"payload":{"orderId":"o-3"},'
            '"type":"order.created"}'
        ),
    ),
    BARE: Written({}, {}, sha256('{"attributes":{},"payload":{},"type":"t"}')),
    ONE: Written({"n": 1}, None, sha256('{"attributes":{},"payload":{"n":1},"type":"t"}')),
    TRUE: Written({"n": True}, None, sha256('{"attributes":{},"payload":{"n":true},"type":"t"}')),
}


def written(content: Content) -> Written:
    if content not in WRITTEN:
        raise KeyError(f"{content!r} has no hand-written record: add it to oracle.build.WRITTEN")
    return WRITTEN[content]


def record(
    content: Content = ORDER, message_id: str = "m-1", status: str = "QUEUED", **changes: Any
) -> dict[str, Any]:
    """A record as the contract describes it; ``changes`` override (or, given None, drop) fields."""
    item: dict[str, Any] = {
        "messageId": message_id,
        "type": content.type,
        "payload": content.payload_json,
        "payloadHash": written(content).payload_hash,
        "status": status,
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "ttl": TTL,
        "version": 1,
        "requestId": "req-1",
    }
    if written(content).attributes is not None:
        item["attributes"] = written(content).attributes
    if status != "PENDING":
        item.update(updatedAt=QUEUED_AT, queuedAt=QUEUED_AT, sqsMessageId="sqs-1", version=2)
    item.update(changes)
    return {field: value for field, value in item.items() if value is not None}


def message(content: Content = ORDER, message_id: str = "m-1") -> QueueMessage:
    """The queue message the contract's step 3 sends for a submission."""
    body = {
        "messageId": message_id,
        "type": content.type,
        "payload": written(content).payload,
        "attributes": written(content).attributes or {},
    }
    return QueueMessage(json.dumps(body))


def snapshot(
    records: Iterable[Mapping[str, Any]] = (),
    messages: Iterable[QueueMessage] = (),
    now: int = NOW,
) -> Snapshot:
    return Snapshot({item["messageId"]: item for item in records}, tuple(messages), now)


def answer(
    status: int | None, body: Any = None, headers: Mapping[str, str] | None = None
) -> Answer:
    """An answer as the driver hands it over: header names lower-cased, the body parsed."""
    raw = "" if body is None else json.dumps(body)
    return Answer(status, {"content-type": "application/json", **(headers or {})}, body, raw)


def accepted(
    message_id: str = "m-1", status: str = "QUEUED", *, duplicate: bool = False, http: int = 202
) -> Answer:
    return answer(http, {"messageId": message_id, "status": status, "duplicate": duplicate})


def error(
    http: int,
    code: str,
    message: str = "The request could not be completed.",
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Answer:
    """A documented error body; ``extra`` adds keys inside ``error``."""
    details = {"details": [{"field": "type", "problem": "required"}]}
    body = {"error": {"code": code, "message": message, "requestId": "req-1", **extra}}
    if code == "VALIDATION_ERROR" and "details" not in extra:
        body["error"].update(details)
    if http == 503 and headers is None:
        headers = {"retry-after": "1"}
    return answer(http, body, headers)


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """What ``GET /messages/{id}`` shows: id, type, status and timestamps (``queuedAt`` once
    the record was queued)."""
    fields = ("messageId", "type", "status", "createdAt", "updatedAt", "queuedAt")
    return {field: item[field] for field in fields if field in item}


def memory(**fields: Any) -> Memory:
    return Memory(secrets=(TABLE, QUEUE_URL), **fields)
