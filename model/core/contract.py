"""What makes a request valid, and what an invalid one must be answered with.

Written from DESIGN.md section 1 on its own, sharing no code with ``reference/``: when the
two disagree, one of them has a bug, and the harness says so.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import attrs

MAX_BODY_BYTES = 262_144
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9._:-]{0,127}\Z")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}\Z")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}\Z")
_KNOWN_FIELDS = {"type", "payload", "messageId", "attributes"}

# Every error code the contract knows, with the HTTP statuses it may come with.
ERROR_STATUSES: dict[str, frozenset[int]] = {
    "VALIDATION_ERROR": frozenset({400}),
    "NOT_FOUND": frozenset({404}),
    "METHOD_NOT_ALLOWED": frozenset({405}),
    "IDEMPOTENCY_CONFLICT": frozenset({409}),
    "PAYLOAD_TOO_LARGE": frozenset({413}),
    "UNSUPPORTED_MEDIA_TYPE": frozenset({415}),
    "SYSTEM_ERROR": frozenset({500, 503}),
}


@attrs.frozen
class Content:
    """What a submission says, in canonical form so equal content compares equal."""

    type: str
    payload_json: str
    attributes: tuple[tuple[str, str], ...] | None = None

    @classmethod
    def of(
        cls, type_: str, payload: Mapping[str, Any], attributes: Mapping[str, str] | None = None
    ) -> Content:
        pairs = None if attributes is None else tuple(sorted(attributes.items()))
        return cls(type_, canonical(payload), pairs)

    @property
    def payload(self) -> Any:
        return json.loads(self.payload_json)

    @property
    def attribute_map(self) -> dict[str, str]:
        return dict(self.attributes or ())

    def fingerprint(self) -> str:
        """SHA-256 of canonical ``{type, payload, attributes}``; absent attributes count as {}."""
        document = {"type": self.type, "payload": self.payload, "attributes": self.attribute_map}
        return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


@attrs.frozen
class Submission:
    """A valid ``POST /messages``: the id the record must have, and its content."""

    message_id: str
    content: Content


@attrs.frozen
class Rejection:
    status: int
    code: str
    allow: str | None = attrs.field(default=None, eq=False)
    """For a 405: the methods the path does allow, as the ``Allow`` header must list them."""


def canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    return next((v for k, v in (headers or {}).items() if k.lower() == name.lower()), None)


def _attributes_ok(attributes: Any) -> bool:
    if not isinstance(attributes, dict) or len(attributes) > 10:
        return False
    for name, value in attributes.items():
        lowered = name.lower()
        if (
            not _ATTRIBUTE_NAME.match(name)
            or lowered.startswith(("aws.", "amazon."))
            or name[0] == "."
            or name[-1] == "."
            or ".." in name
        ):
            return False
        if not isinstance(value, str) or not 1 <= len(value) <= 256:
            return False
    return True


def _strict_json(raw: bytes) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    value = json.loads(
        raw.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constants
    )
    canonical(value).encode("utf-8")  # a lone surrogate cannot be encoded
    return value


@attrs.frozen
class Lookup:
    """A valid ``GET /messages/{messageId}``."""

    message_id: str


def judge(event: Mapping[str, Any]) -> Submission | Lookup | Rejection:
    """What an event asks for, or the rejection the contract demands for it."""
    method, path = event.get("httpMethod"), event.get("path") or ""
    parts = [part for part in str(path).split("/") if part]
    if not isinstance(method, str):
        return Rejection(400, "VALIDATION_ERROR")
    if parts[:1] != ["messages"] or len(parts) > 2:
        return Rejection(404, "NOT_FOUND")
    if len(parts) == 2:
        if method.upper() != "GET":
            return Rejection(405, "METHOD_NOT_ALLOWED", allow="GET")
        return Lookup(parts[1]) if _ID.match(parts[1]) else Rejection(404, "NOT_FOUND")
    if method.upper() != "POST":
        return Rejection(405, "METHOD_NOT_ALLOWED", allow="POST")
    return _judge_submission(event)


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers, from ``headers`` or, where a name is missing there, the first
    value in ``multiValueHeaders`` (API Gateway REST fills both; a test client may fill one)."""
    merged: dict[str, str] = {}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if isinstance(name, str) and isinstance(values, list) and values:
            merged[name.lower()] = str(values[0])
    for name, value in (event.get("headers") or {}).items():
        if isinstance(name, str) and isinstance(value, str):
            merged[name.lower()] = value
    return merged


def _judge_submission(event: Mapping[str, Any]) -> Submission | Rejection:
    headers = _headers(event)
    media = _header(headers, "content-type")
    if media is not None:
        kind, *params = [part.strip().lower() for part in media.split(";")]
        charsets = [p.split("=", 1)[1].strip('" ') for p in params if p.startswith("charset=")]
        json_kind = kind == "application/json" or (
            kind.startswith("application/") and kind.endswith("+json")
        )
        if not json_kind or any(c not in ("utf-8", "utf8") for c in charsets):
            return Rejection(415, "UNSUPPORTED_MEDIA_TYPE")
    body = event.get("body")
    if not isinstance(body, str) or not body:
        return Rejection(400, "VALIDATION_ERROR")
    try:
        raw = (
            base64.b64decode(body, validate=True)
            if event.get("isBase64Encoded")
            else body.encode("utf-8")
        )
    except ValueError:
        return Rejection(400, "VALIDATION_ERROR")
    if len(raw) > MAX_BODY_BYTES:
        return Rejection(413, "PAYLOAD_TOO_LARGE")
    try:
        document = _strict_json(raw)
    except (ValueError, RecursionError):
        return Rejection(400, "VALIDATION_ERROR")
    if not isinstance(document, dict) or set(document) - _KNOWN_FIELDS:
        return Rejection(400, "VALIDATION_ERROR")
    type_, payload = document.get("type"), document.get("payload")
    body_id, key = document.get("messageId"), _header(headers, "idempotency-key")
    if (
        not isinstance(type_, str)
        or not _TYPE.match(type_)
        or not isinstance(payload, dict)
        or ("attributes" in document and not _attributes_ok(document["attributes"]))
        or ("messageId" in document and not (isinstance(body_id, str) and _ID.match(body_id)))
        or (key is not None and not _ID.match(key))
        or (key is not None and body_id is not None and key != body_id)
    ):
        return Rejection(400, "VALIDATION_ERROR")
    content = Content.of(type_, payload, document.get("attributes"))
    return Submission(body_id or key or content.fingerprint(), content)
