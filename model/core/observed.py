"""What the harness observes after a step, as plain values: records, queue, answers."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import attrs

from model.core import lifecycle
from model.core.lifecycle import Status


@attrs.frozen
class QueueMessage:
    """One message in the queue: its raw body, the body parsed (None if not a JSON object).

    The parsed body and id are cached: every invariant asks for them after every step."""

    raw: str
    attributes: Mapping[str, str] = attrs.field(factory=dict)

    @functools.cached_property
    def body(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @functools.cached_property
    def message_id(self) -> str | None:
        body = self.body
        value = body.get("messageId") if body else None
        return value if isinstance(value, str) else None


@attrs.frozen(eq=False)
class Snapshot:
    """Table and queue at one moment; ``now`` (epoch seconds) decides what has expired."""

    records: Mapping[str, Mapping[str, Any]]
    messages: tuple[QueueMessage, ...]
    now: int

    def record(self, message_id: str) -> Mapping[str, Any] | None:
        return self.records.get(message_id)

    def status(self, message_id: str) -> Status | None:
        record = self.records.get(message_id)
        return lifecycle.parse(record.get("status")) if record else None

    def expired(self, message_id: str) -> bool:
        record = self.records.get(message_id)
        ttl = record.get("ttl") if record else None
        return isinstance(ttl, int | float) and ttl < self.now

    def live(self, message_id: str) -> bool:
        """Present and not past its ``ttl``: what a reader of the table may rely on."""
        return message_id in self.records and not self.expired(message_id)

    def messages_for(self, message_id: str) -> list[QueueMessage]:
        return [message for message in self.messages if message.message_id == message_id]


@attrs.frozen
class Answer:
    """A handler's answer, reduced to what the contract speaks of. ``status`` None: it crashed."""

    status: int | None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: Any = None
    raw_body: str = ""

    @property
    def crashed(self) -> bool:
        return self.status is None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def code(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) else None

    def describe(self) -> str:
        if self.crashed:
            return "no answer (the invocation crashed)"
        if self.ok:
            return f"{self.status} {self.raw_body}"
        return f"{self.status} {self.code or self.raw_body[:120]}"
