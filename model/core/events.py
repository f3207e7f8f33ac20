"""API Gateway REST proxy events (payload format 1.0) and responses, as the harness uses them."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import attrs

MEDIA_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/json;charset=UTF-8",
)
JSON_STYLES = ("compact", "spaced", "escaped", "indented")
HEADER_PLACES = ("both", "both", "headers", "multiValueHeaders")


@attrs.frozen
class Encoding:
    """One of the equivalent ways API Gateway can hand over the same request: header names in
    any case, the media type in any spelling, the body plain or base64 (binary media types),
    JSON with any whitespace, key order and ``\\u`` escapes. A correct handler answers each the
    same, and stores the same record: the model judges the request, not its spelling."""

    header_case: str = "as is"
    media_type: str = MEDIA_TYPES[0]
    base64: bool = False
    json_style: str = "compact"
    headers_in: str = "both"
    """Where the headers come: ``both`` (as API Gateway REST sends them), ``headers`` only, or
    ``multiValueHeaders`` only (as some test clients and older proxies do)."""

    @classmethod
    def derived(cls, seed: str, source: str = "contract", *, base64: bool = True) -> Encoding:
        """An encoding chosen by ``seed`` (the request id, so a resubmission is spelled anew):
        derived rather than drawn, so it costs the shrinker nothing and replays exactly.

        Only what the event ``source`` can deliver: an HTTP API (payload 2.0) lower-cases header
        names and never base64-encodes a JSON body; a REST API base64-encodes bodies only where
        binary media types are configured (``base64``). Headers only in ``headers`` or only in
        ``multiValueHeaders`` come from test clients, never from API Gateway: only the contract
        (``source="contract"``, a REST API that says it reads either) gets those; an intake
        described by a pipeline file gets both, as API Gateway sends them."""
        digest = hashlib.sha256(seed.encode("utf-8")).digest()
        return cls(
            "lower" if source == "http" else ("as is", "lower", "upper")[digest[0] % 3],
            MEDIA_TYPES[digest[1] % len(MEDIA_TYPES)],
            base64 and source in ("rest", "contract") and digest[2] % 3 == 0,
            JSON_STYLES[digest[3] % len(JSON_STYLES)],
            HEADER_PLACES[digest[4] % len(HEADER_PLACES)] if source == "contract" else "both",
        )

    def describe(self) -> str:
        """The spelling in a few words, for the report's coverage lines."""
        parts = [f"header names {self.header_case}", self.media_type, f"JSON {self.json_style}"]
        parts += ["base64"] if self.base64 else []
        parts += [f"headers in {self.headers_in}"] if self.headers_in != "both" else []
        return ", ".join(parts)

    def header(self, name: str) -> str:
        return {"lower": name.lower(), "upper": name.upper()}.get(self.header_case, name)

    def text(self, document: dict[str, Any]) -> str:
        if self.json_style == "spaced":
            return json.dumps(document, ensure_ascii=False)
        if self.json_style == "escaped":
            return json.dumps(document, ensure_ascii=True, separators=(",", ":"))
        if self.json_style == "indented":
            return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def api_event(
    method: str,
    path: str,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    base64_encoded: bool = False,
    request_id: str = "req-0",
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An event shaped like the one API Gateway hands a proxy-integrated Lambda."""
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode("ascii") if base64_encoded else body.decode("utf-8")
    elif base64_encoded and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    headers = dict(headers or {})
    return {
        "resource": "/messages/{messageId}" if path_parameters else path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "stage": "test",
            "httpMethod": method,
            "path": f"/test{path}",
            "resourcePath": "/messages/{messageId}" if path_parameters else path,
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def submit_event(
    message: dict[str, Any] | str | bytes,
    headers: dict[str, str] | None = None,
    *,
    request_id: str = "req-0",
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """``POST /messages`` with a JSON body (a dict is serialised; text or bytes are sent as is)."""
    body = json.dumps(message) if isinstance(message, dict) else message
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return api_event(
        "POST", "/messages", body, all_headers, base64_encoded=base64_encoded, request_id=request_id
    )


def with_request_id(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    """The same request again, as API Gateway hands over a retry: only the request id is new."""
    context = event.get("requestContext")
    return {**event, "requestContext": {**(context or {}), "requestId": request_id}}


def get_event(message_id: str, *, request_id: str = "req-0") -> dict[str, Any]:
    return api_event(
        "GET",
        f"/messages/{message_id}",
        request_id=request_id,
        path_parameters={"messageId": message_id},
    )


# What a Lambda proxy response (payload format 1.0) may hold; anything else is malformed.
PROXY_RESPONSE_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)


@attrs.frozen
class Response:
    """A handler's answer, parsed: status, headers (lower-cased names) and JSON body."""

    status: int
    headers: dict[str, str]
    body: Any
    raw_body: str

    @classmethod
    def parse(cls, answer: Any) -> Response:
        """Parse a proxy response; a malformed one raises ``ValueError`` naming what is wrong."""
        if not isinstance(answer, dict) or not isinstance(answer.get("statusCode"), int):
            raise ValueError(f"handler returned {answer!r}, not a proxy response with statusCode")
        unknown = sorted(set(answer) - PROXY_RESPONSE_KEYS)
        if unknown:  # API Gateway (REST) answers such a response 502 "Malformed Lambda proxy"
            raise ValueError(
                f"handler returned a proxy response with unknown keys {unknown} "
                f"(API Gateway accepts only {sorted(PROXY_RESPONSE_KEYS)})"
            )
        raw = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode("utf-8")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            raise ValueError(f"handler returned a body that is not JSON: {raw[:200]!r}") from None
        headers = {str(k).lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
        return cls(answer["statusCode"], headers, body, raw)

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, str) else None
        return None
