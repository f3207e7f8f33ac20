"""Turns an API Gateway proxy event into a route and a validated ``Submission``.

Every rule of the contract lives here and nowhere else; nothing here touches AWS, so an
invalid request can never write anything.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import attrs

from reference import errors
from reference.errors import Problem
from reference.messages import Submission, content_hash

MAX_BODY_BYTES = 256 * 1024
MAX_ATTRIBUTES = 10
TYPE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{0,127}")
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
ATTRIBUTE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,256}")
RESERVED_ATTRIBUTE_PREFIXES = ("aws.", "amazon.")
# Characters SQS accepts in a string attribute value (the XML character range).
ATTRIBUTE_VALUE_PATTERN = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]{1,256}")
FIELDS = ("type", "payload", "messageId", "attributes")


@attrs.frozen
class Route:
    """Which resource a request is for; ``message_id`` only for ``/messages/{messageId}``."""

    resource: str  # "collection" or "item"
    method: str
    message_id: str | None = None


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header by case-insensitive name; API Gateway keeps the client's casing."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if isinstance(key, str) and key.lower() == wanted and values and isinstance(values[0], str):
            return str(values[0])
    return None


def route(event: Any) -> Route:
    """The route of an event; an unknown path is NOT_FOUND, a known one with the wrong verb 405."""
    if not isinstance(event, Mapping) or not isinstance(event.get("httpMethod"), str):
        raise errors.validation_error(Problem("event", "is not an API Gateway proxy event"))
    method = event["httpMethod"].upper()
    path = event.get("path")
    parts = [part for part in path.split("/") if part] if isinstance(path, str) else []
    if parts == ["messages"]:
        if method != "POST":
            raise errors.method_not_allowed("POST")
        return Route("collection", method)
    if len(parts) == 2 and parts[0] == "messages":
        if method != "GET":
            raise errors.method_not_allowed("GET")
        params = event.get("pathParameters") or {}
        message_id = params.get("messageId") if isinstance(params, Mapping) else None
        if not isinstance(message_id, str):
            message_id = unquote(parts[1])
        return Route("item", method, message_id)
    raise errors.not_found()


def _check_media_type(event: Mapping[str, Any]) -> None:
    content_type = header(event, "content-type")
    if content_type is None:
        return  # clients that send JSON without saying so are common; the body is still checked
    media_type, *params = (part.strip().lower() for part in content_type.split(";"))
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise errors.unsupported_media_type()
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise errors.unsupported_media_type()


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        raise errors.validation_error(Problem("body", "is required"))
    if not isinstance(body, str):
        raise errors.validation_error(Problem("body", "must be a string"))
    if event.get("isBase64Encoded") is True:
        if len(body) > (MAX_BODY_BYTES + 2) // 3 * 4 + 4:
            raise errors.payload_too_large()
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise errors.validation_error(Problem("body", "is not valid base64")) from None
    else:
        if len(body) > MAX_BODY_BYTES:
            raise errors.payload_too_large()
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.validation_error(Problem("body", "is not valid UTF-8")) from None
    if len(raw) > MAX_BODY_BYTES:
        raise errors.payload_too_large()
    return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    """A JSON number; one that overflows a double (``1e400``) would be stored as ``Infinity``."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} overflows a double")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _has_lone_surrogate(value: Any) -> bool:
    """True if any string in the value cannot be UTF-8 (``"\\ud800"`` escapes parse in Python)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN or Infinity, no duplicate keys, no lone surrogates."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except UnicodeDecodeError:
        raise errors.validation_error(Problem("body", "is not valid UTF-8")) from None
    except (ValueError, RecursionError):
        raise errors.validation_error(Problem("body", "is not valid JSON")) from None
    if _has_lone_surrogate(value):
        raise errors.validation_error(Problem("body", "contains a lone surrogate")) from None
    return value


def _attribute_problems(attributes: Any) -> list[Problem]:
    if not isinstance(attributes, dict):
        return [Problem("attributes", "must be an object of strings")]
    problems = []
    if len(attributes) > MAX_ATTRIBUTES:
        problems.append(Problem("attributes", f"must have at most {MAX_ATTRIBUTES} entries"))
    for name, value in attributes.items():
        where = f"attributes.{name}"
        if (
            not ATTRIBUTE_NAME_PATTERN.fullmatch(name)
            or name.lower().startswith(RESERVED_ATTRIBUTE_PREFIXES)
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            problems.append(Problem(where, "is not a valid attribute name"))
        if not isinstance(value, str) or not ATTRIBUTE_VALUE_PATTERN.fullmatch(value):
            problems.append(Problem(where, "must be a string of 1 to 256 characters"))
    return problems


def parse_submission(event: Mapping[str, Any]) -> Submission:
    """The validated submission, or an ``ApiError`` listing every problem found."""
    _check_media_type(event)
    body = parse_json(_body_bytes(event))
    if not isinstance(body, dict):
        raise errors.validation_error(Problem("body", "must be a JSON object"))
    problems = [Problem(name, "is not a known field") for name in body if name not in FIELDS]
    type_ = body.get("type")
    if not isinstance(type_, str) or not TYPE_PATTERN.fullmatch(type_):
        problems.append(Problem("type", "is required and must match " + TYPE_PATTERN.pattern))
    payload = body.get("payload")
    if not isinstance(payload, dict):
        problems.append(Problem("payload", "is required and must be a JSON object"))
    attributes = body.get("attributes")
    if "attributes" in body:
        problems.extend(_attribute_problems(attributes))
    body_id = body.get("messageId")
    if "messageId" in body and (not isinstance(body_id, str) or not ID_PATTERN.fullmatch(body_id)):
        problems.append(Problem("messageId", "must match " + ID_PATTERN.pattern))
    header_id = header(event, "idempotency-key")
    if header_id is not None and not ID_PATTERN.fullmatch(header_id):
        problems.append(Problem("Idempotency-Key", "must match " + ID_PATTERN.pattern))
    elif header_id is not None and isinstance(body_id, str) and body_id != header_id:
        problems.append(Problem("Idempotency-Key", "differs from messageId in the body"))
    # The type checks repeat what ``problems`` already says, for mypy and without an assert
    # (which `python -O` drops).
    if problems or not isinstance(type_, str) or not isinstance(payload, dict):
        raise errors.validation_error(*problems)
    fingerprint = content_hash(type_, payload, attributes)
    message_id = body_id if isinstance(body_id, str) else header_id or fingerprint
    return Submission(message_id, type_, payload, attributes, fingerprint)


def valid_message_id(message_id: str) -> bool:
    return ID_PATTERN.fullmatch(message_id) is not None
