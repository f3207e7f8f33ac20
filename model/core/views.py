"""The table, the queue and the answers of a pipeline, as the generic invariants see them.

Records are the items whose key fits the file's template, by id; messages carry the id found
at the file's ``id_path``. Answers are reduced to what a pipeline file can speak of: accepted,
refused (a 4xx), failed (any other status, or a raised exception where raising is the way to
fail), crashed (no answer at all).
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from model.core.spec import Pipeline


@attrs.frozen
class Message:
    """One queue message: its raw body and the id it names (None: none at ``id_path``)."""

    raw: str
    id: str | None


@attrs.frozen(eq=False)
class View:
    """Table and queue at one moment, read through a pipeline file."""

    records: Mapping[str, Mapping[str, Any]]
    messages: tuple[Message, ...]
    strays: int = 0
    """Items whose key does not fit the template (other item kinds): counted, never judged."""

    @classmethod
    def of(
        cls, pipeline: Pipeline, items: Iterable[Mapping[str, Any]], bodies: Iterable[str]
    ) -> View:
        records, strays = {}, 0
        for item in items:
            identifier = pipeline.id_of_key(item)
            if identifier is None:
                strays += 1
            else:
                records[identifier] = item
        messages = tuple(Message(raw, pipeline.id_in_message(_parsed(raw))) for raw in bodies)
        return cls(records, messages, strays)

    def record(self, identifier: str) -> Mapping[str, Any] | None:
        return self.records.get(identifier)

    @functools.cached_property
    def counts(self) -> dict[str | None, int]:
        counts: dict[str | None, int] = {}
        for message in self.messages:
            counts[message.id] = counts.get(message.id, 0) + 1
        return counts

    def sent(self, identifier: str) -> int:
        """How many messages name ``identifier``."""
        return self.counts.get(identifier, 0)


def _parsed(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class Kind(enum.StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    FAILED = "failed"
    CRASHED = "crashed"


@attrs.frozen
class Reply:
    """What an invocation answered, in the pipeline's own terms."""

    kind: Kind
    status: int | None = None
    """The HTTP status (rest/http); None for a direct invocation or a crash."""
    text: str = ""
    """The answer's body, or for a direct invocation that raised, the exception."""
    note: str = ""
    """How the answer is told where it has no body to show: an SQS record's fate, or why an
    invocation gave no answer."""

    @property
    def accepted(self) -> bool:
        return self.kind is Kind.ACCEPTED

    def describe(self) -> str:
        if self.note:
            return self.note
        if self.kind is Kind.CRASHED:
            return "no answer (the invocation crashed)"
        if self.status is None:
            return f"{'returned' if self.accepted else 'raised'} {self.text[:160]}"
        return f"{self.status} {self.text[:160]}"


def classify_http(pipeline: Pipeline, status: int, text: str) -> Reply:
    if status in pipeline.accepted:
        return Reply(Kind.ACCEPTED, status, text)
    if 400 <= status < 500:
        return Reply(Kind.REFUSED, status, text)
    return Reply(Kind.FAILED, status, text)
