"""What the machine sends: the valid, conflicting and invalid requests of one intake, drawn by
Hypothesis and spelled as the intake's event source delivers them.

Two request spaces, one interface. The contract's (``ContractRequests``) draws submissions with
a type, a payload, attributes and an id in the body, in the ``Idempotency-Key`` header or
derived from the content, and its 32 kinds of invalid request. A pipeline file's
(``PipelineRequests``) draws an id and a content object and puts them where the file says,
with the invalid requests the file's declarations make. Both spell every valid request anew
for each invocation (``model.core.events.Encoding``): a retry may come with other header case,
charset, JSON spacing and key order, as it may from a real client.

Whatever the space, the machine keeps what it sent as the generic model's request
(``model.core.generic.Submit`` or ``Invalid``): the id, and the content as canonical JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import attrs
from hypothesis import strategies as st

from model.core import contract
from model.core.contract import Submission
from model.core.events import Encoding, with_request_id
from model.core.generic import Submit
from model.core.sources import event_for
from model.core.spec import Pipeline
from model.harness import strategies as strat

# A small pool of ids makes repeats and conflicts likely; each fits the usual id patterns.
IDS = ("id-1", "id-2", "id_7", "Z")


class Sendable(Protocol):
    """A valid request the machine can send: drawn by the strategies, or read from a file."""

    def event(self, request_id: str) -> Any: ...


class RequestSpace(Protocol):
    """The requests one intake is sent, and how each becomes an event."""

    valid: st.SearchStrategy[Any]
    invalid: st.SearchStrategy[tuple[str, Any]]
    cases: tuple[tuple[str, Any], ...]

    def event(self, request: Any, request_id: str) -> Any: ...

    def sent(self, request: Any) -> Submit: ...

    def invalid_event(self, case: tuple[str, Any], request_id: str) -> Any: ...

    def conflicting(self, request: Any, payload: dict[str, Any]) -> Any: ...

    def twin(self, request: Any, other_content: bool) -> Any: ...

    def label(self, verb: str, request: Any) -> str: ...

    def detail(self, request: Any) -> dict[str, Any]: ...

    def spelling(self, request: Any, request_id: str) -> list[str]: ...

    def spelled(self, request: Any, request_id: str) -> str: ...


def again(event: Any, request_id: str) -> Any:
    """The same request again as API Gateway hands over a retry: only the request id is new (a
    direct invocation carries none)."""
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        return with_request_id(event, request_id)
    return event


class ContractRequests:
    """``POST /messages`` as DESIGN.md section 1 describes it (``model.harness.strategies``)."""

    valid = strat.submit_requests()
    invalid = strat.invalid_events
    cases = tuple(strat.INVALID_EVENTS)

    def event(self, request: strat.SubmitRequest, request_id: str) -> dict[str, Any]:
        return request.event(request_id)

    def sent(self, request: strat.SubmitRequest) -> Submit:
        judged = contract.judge(request.event("id"))
        if not isinstance(judged, Submission):  # the strategies draw valid submissions only
            raise ValueError(f"{request!r} is not a valid submission: {judged}")
        return Submit(judged.message_id, judged.content.fingerprint())

    def invalid_event(self, case: tuple[str, Any], request_id: str) -> Any:
        return case[1]

    def conflicting(self, request: strat.SubmitRequest, payload: dict[str, Any]) -> Any:
        return request.with_payload({**payload, "conflict": True})

    def twin(self, request: strat.SubmitRequest, other_content: bool) -> Any:
        """The same request, or other content under the id the first has (even a derived one)."""
        if not other_content:
            return request
        return attrs.evolve(
            request.with_payload({**request.payload, "twin": True}),
            message_id=self.sent(request).id,
            id_in="body" if request.id_in == "content" else request.id_in,
        )

    def label(self, verb: str, request: strat.SubmitRequest) -> str:
        return f"{verb} {request!r}"

    def detail(self, request: strat.SubmitRequest) -> dict[str, Any]:
        return {}

    def spelling(self, request: strat.SubmitRequest, request_id: str) -> list[str]:
        return spelling(request.encoding(request_id))

    def spelled(self, request: strat.SubmitRequest, request_id: str) -> str:
        """Nothing: the contract's story line is the request's repr, which Hypothesis prints
        too; its spelling follows from the request id."""
        return ""


@attrs.frozen
class Request:
    """A valid request to an intake a pipeline file describes: an id and the content."""

    id: str
    content: Any

    @property
    def canonical(self) -> str:
        return json.dumps(self.content, sort_keys=True, separators=(",", ":"))


class PipelineRequests:
    """The requests a pipeline file's declarations make: ``model.core.spec.Pipeline``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.valid = st.builds(Request, id=st.sampled_from(IDS), content=strat.payloads)
        self.cases = invalid_cases(pipeline)
        self.invalid = st.sampled_from(self.cases)

    def body(self, request: Request) -> Any:
        return self.pipeline.body(request.id, strat.with_canary(request.content))

    def encoding(self, request: Request, request_id: str) -> Encoding:
        """The spelling of ``request`` in the invocation ``request_id`` (as the contract's:
        chosen by both), as far as the pipeline's source can deliver it."""
        seed = f"{request_id} {request.id} {request.canonical}"
        return Encoding.derived(seed, self.pipeline.source, base64=self.pipeline.base64)

    def event(self, request: Request, request_id: str) -> Any:
        encoding = self.encoding(request, request_id)
        return event_for(self.pipeline, self.body(request), request_id, encoding=encoding)

    def sent(self, request: Request) -> Submit:
        return Submit(request.id, request.canonical)

    def invalid_event(self, case: tuple[str, Any], request_id: str) -> Any:
        body = case[1]
        return event_for(self.pipeline, body, request_id, raw=not isinstance(body, dict))

    def conflicting(self, request: Request, payload: dict[str, Any]) -> Request:
        return Request(request.id, {**payload, "conflict": True})

    def twin(self, request: Request, other_content: bool) -> Request:
        return Request(request.id, {**request.content, "twin": True}) if other_content else request

    def label(self, verb: str, request: Request) -> str:
        body = json.dumps(self.body(request), ensure_ascii=False)
        return f"{verb} {self.pipeline.route} {body}"

    def detail(self, request: Request) -> dict[str, Any]:
        return {"submitted": {"id": request.id, "content": request.content}}

    def spelling(self, request: Request, request_id: str) -> list[str]:
        if self.pipeline.source == "direct":
            return ["direct: the body itself"]
        return spelling(self.encoding(request, request_id))

    def spelled(self, request: Request, request_id: str) -> str:
        """How this invocation spelled the request, where it differs from the plainest way:
        a story that turns on a spelling says so."""
        source = self.pipeline.source
        if source == "direct":
            return ""
        encoding = self.encoding(request, request_id)
        notes = []
        if source == "rest" and encoding.header_case != "as is":
            notes.append(f"header names in {encoding.header_case} case")
        if encoding.media_type != "application/json":
            notes.append(f"Content-Type: {encoding.media_type}")
        if encoding.json_style != "compact":
            notes.append(f"JSON {encoding.json_style}")
        if encoding.base64:
            notes.append("body base64-encoded")
        return f" (sent as: {', '.join(notes)})" if notes else ""


def spelling(encoding: Encoding) -> list[str]:
    """The features of one spelling, for the report's coverage of encodings."""
    features = [
        f"header names {encoding.header_case}",
        f"Content-Type: {encoding.media_type}",
        f"JSON {encoding.json_style}",
    ]
    features += ["body base64-encoded"] if encoding.base64 else []
    features += [f"headers only in {encoding.headers_in}"] if encoding.headers_in != "both" else []
    return features


def invalid_cases(pipeline: Pipeline) -> tuple[tuple[str, Any], ...]:
    """Requests every such intake must refuse: (what is wrong, the body or raw text)."""
    good_id, content = IDS[0], {"sku": 1}
    cases: list[tuple[str, Any]] = [
        (f"{pipeline.id_field} is a number", pipeline.body(7, content)),
        (f"{pipeline.id_field} is null", pipeline.body(None, content)),
        (f"{pipeline.content_field} is a string", pipeline.body(good_id, "x")),
        (f"{pipeline.content_field} is a list", pipeline.body(good_id, [1, 2])),
    ]
    if pipeline.id_required:
        missing = {
            k: v for k, v in pipeline.body(good_id, content).items() if k != pipeline.id_field
        }
        cases.insert(0, (f"{pipeline.id_field} missing", missing))
    if pipeline.source == "direct":
        cases += [("the event is a list", [1, 2]), ("the event is a string", "hello")]
    else:
        cases += [
            ("the body is not JSON", '{"' + pipeline.id_field + '": '),
            ("the body is a JSON list", "[1, 2]"),
            ("no body", None),
        ]
    return tuple(cases)


def case_named(cases: tuple[tuple[str, Any], ...], reason: str) -> tuple[str, Any]:
    """The invalid case of that name (a scenario file names cases by what is wrong)."""
    found: Mapping[str, Any] = dict(cases)
    if reason not in found:
        raise KeyError(f"no invalid request {reason!r}; known: {', '.join(found)}")
    return reason, found[reason]
