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
from model.core.generic import Invalid, Submit
from model.core.sources import event_for, redelivered, sqs_event
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

    def sent(self, request: Any) -> Any: ...

    def identifier(self, request: Any) -> str | None: ...

    def part(self, event: Any, index: int) -> Any: ...

    def alone(self, request: Any) -> Any: ...

    def invalid_event(self, case: tuple[str, Any], request_id: str) -> Any: ...

    def conflicting(self, request: Any, payload: dict[str, Any]) -> Any: ...

    def twin(self, request: Any, other_content: bool) -> Any: ...

    def label(self, verb: str, request: Any) -> str: ...

    def detail(self, request: Any) -> dict[str, Any]: ...

    def spelling(self, request: Any, request_id: str) -> list[str]: ...

    def spelled(self, request: Any, request_id: str) -> str: ...

    def resent(self, sent: Any) -> dict[str, Any]: ...


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

    def identifier(self, request: strat.SubmitRequest) -> str:
        return self.sent(request).id or ""

    def part(self, event: Any, index: int) -> Any:
        return event

    def alone(self, request: strat.SubmitRequest) -> strat.SubmitRequest:
        return request

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

    def resent(self, sent: Any) -> dict[str, Any]:
        """Nothing: a retry's story line names its key, and a scenario repeats its event."""
        return {}

    def spelled(self, request: strat.SubmitRequest, request_id: str) -> str:
        """Nothing: the contract's story line is the request's repr, which Hypothesis prints
        too; its spelling follows from the request id."""
        return ""


@attrs.frozen
class Request:
    """A valid request to an intake a pipeline file describes: an id (None: the handler makes
    one) and the content."""

    id: str | None
    content: Any

    @property
    def canonical(self) -> str:
        return json.dumps(self.content, sort_keys=True, separators=(",", ":"))


@attrs.frozen
class Batch:
    """What an SQS-triggered intake gets in one invocation: 1 to 10 records, each a valid
    request or an invalid one (what is wrong with it, and the body)."""

    records: tuple[Request | tuple[str, Any], ...]

    @property
    def requests(self) -> list[Request]:
        return [record for record in self.records if isinstance(record, Request)]


class PipelineRequests:
    """The requests a pipeline file's declarations make: ``model.core.spec.Pipeline``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        ids = st.none() if pipeline.handler_makes_ids else st.sampled_from(IDS)
        requests = st.builds(Request, id=ids, content=strat.CONTENT[pipeline.content_kind])
        self.cases = invalid_cases(pipeline)
        self.invalid = st.sampled_from(self.cases)
        if pipeline.source == "sqs":
            # mostly valid records, repeats of one id likely (a small pool), now and then an
            # invalid one among them: what a partial batch response is for
            record = st.one_of(requests, requests, requests, self.invalid)
            batches = st.lists(record, min_size=1, max_size=10).map(tuple)
            self.valid: st.SearchStrategy[Any] = st.builds(Batch, batches).filter(
                lambda batch: bool(batch.requests)
            )
        else:
            self.valid = requests

    def body(self, request: Request) -> Any:
        return self.pipeline.body(request.id, strat.with_canary(request.content))

    def encoding(self, request: Request | Batch, request_id: str) -> Encoding:
        """The spelling of ``request`` in the invocation ``request_id`` (as the contract's:
        chosen by both), as far as the pipeline's source can deliver it."""
        seed = f"{request_id} {request!r}"
        return Encoding.derived(seed, self.pipeline.source, base64=self.pipeline.base64)

    def event(self, request: Request | Batch, request_id: str) -> Any:
        encoding = self.encoding(request, request_id)
        if isinstance(request, Batch):
            bodies = [
                encoding.text(self.body(record)) if isinstance(record, Request) else _raw(record[1])
                for record in request.records
            ]
            return sqs_event([(f"{request_id}-{n}", body) for n, body in enumerate(bodies, 1)])
        return event_for(self.pipeline, self.body(request), request_id, encoding=encoding)

    def sent(self, request: Request | Batch) -> Any:
        if isinstance(request, Batch):
            return tuple(
                Submit(record.id, record.canonical)
                if isinstance(record, Request)
                else Invalid(record[0])
                for record in request.records
            )
        return Submit(request.id, request.canonical)

    def identifier(self, request: Request | Batch) -> str | None:
        """The id a request names (a batch: its first valid record's), if it names one."""
        first = request.requests[0] if isinstance(request, Batch) else request
        return first.id

    def part(self, event: Any, index: int) -> Any:
        """The event that sends part ``index`` of ``event`` again: a record of a batch is
        redelivered on its own, as SQS redelivers it."""
        return redelivered(event, index) if self.pipeline.source == "sqs" else event

    def invalid_event(self, case: tuple[str, Any], request_id: str) -> Any:
        body = case[1]
        if self.pipeline.source == "sqs":
            return sqs_event([(f"{request_id}-1", _raw(body))])
        return event_for(self.pipeline, body, request_id, raw=not isinstance(body, dict))

    def conflicting(self, request: Request | Batch, payload: dict[str, Any]) -> Any:
        """Other content under the request's id (in a batch, its first valid record's): the
        drawn payload merged in, and a conflict marker, so that it differs from the original
        even where the payload changes nothing (none drawn, or what the content already
        holds) and where the original was itself made so."""
        first = request.requests[0] if isinstance(request, Batch) else request
        marked = {**payload, "conflict": _next_mark(first.content)}
        changed = Request(first.id, _other(self.pipeline.content_kind, first.content, marked))
        return Batch((changed,)) if isinstance(request, Batch) else changed

    def alone(self, request: Request | Batch) -> Request | Batch:
        """The request as one invocation of one request (a batch: of its first valid record)."""
        return Batch((request.requests[0],)) if isinstance(request, Batch) else request

    def twin(self, request: Request | Batch, other_content: bool) -> Request | Batch:
        if not other_content:
            return request
        first = request.requests[0] if isinstance(request, Batch) else request
        twin = Request(first.id, _other(self.pipeline.content_kind, first.content, {"twin": True}))
        return Batch((twin,)) if isinstance(request, Batch) else twin

    def label(self, verb: str, request: Request | Batch) -> str:
        if isinstance(request, Batch):
            records = [
                json.dumps(self.body(record), ensure_ascii=False)
                if isinstance(record, Request)
                else f"<invalid: {record[0]}>"
                for record in request.records
            ]
            return f"{verb} an SQS batch of {len(records)}: [{', '.join(records)}]"
        body = json.dumps(self.body(request), ensure_ascii=False)
        return f"{verb} {self.pipeline.route} {body}"

    def detail(self, request: Request | Batch) -> dict[str, Any]:
        if isinstance(request, Batch):
            return {
                "submitted": [
                    {"id": record.id, "content": record.content}
                    if isinstance(record, Request)
                    else {"case": record[0]}
                    for record in request.records
                ]
            }
        return {"submitted": {"id": request.id, "content": request.content}}

    def resent(self, sent: Any) -> dict[str, Any]:
        """A retry in the words of a scenario file: what it submits again (a record of a
        batch on its own, as SQS redelivers it)."""
        if not isinstance(sent, Submit):
            return {}
        submitted = {"id": sent.id, "content": json.loads(sent.content)}
        return {"submitted": [submitted] if self.pipeline.source == "sqs" else submitted}

    def spelling(self, request: Request | Batch, request_id: str) -> list[str]:
        if self.pipeline.source == "direct":
            return ["direct: the body itself"]
        if self.pipeline.source == "sqs":
            return [f"JSON {self.encoding(request, request_id).json_style}"]
        return spelling(self.encoding(request, request_id))

    def spelled(self, request: Request | Batch, request_id: str) -> str:
        """How this invocation spelled the request, where it differs from the plainest way:
        a story that turns on a spelling says so."""
        source = self.pipeline.source
        if source == "direct":
            return ""
        encoding = self.encoding(request, request_id)
        notes = []
        if source == "rest" and encoding.header_case != "as is":
            notes.append(f"header names in {encoding.header_case} case")
        if source != "sqs" and encoding.media_type != "application/json":
            notes.append(f"Content-Type: {encoding.media_type}")
        if encoding.json_style != "compact":
            notes.append(f"JSON {encoding.json_style}")
        if encoding.base64:
            notes.append("body base64-encoded")
        return f" (sent as: {', '.join(notes)})" if notes else ""


def _raw(body: Any) -> str:
    """An invalid record's body as text: raw text as it is, anything else as JSON."""
    return body if isinstance(body, str) else json.dumps(body)


def _next_mark(content: Any) -> int:
    """A conflict marker other than the one ``content`` carries (1, or one more)."""
    mark = content.get("conflict") if isinstance(content, dict) else None
    return mark + 1 if isinstance(mark, int) and not isinstance(mark, bool) else 1


def _other(kind: str, content: Any, extra: dict[str, Any]) -> Any:
    """Content other than ``content``, of the kind the file declares."""
    if isinstance(content, dict):
        return {**content, **extra}
    if isinstance(content, str) or kind == "string":
        return f"{content} {'-'.join(sorted(extra))}"
    return {"was": content, **extra}


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
    """Requests every such intake must refuse, as its file declares them: (what is wrong, the
    body or raw text). Never a value the file declares valid: an id only where requests carry
    one, content of another kind only where the file says which kind it is."""
    good_id, field = IDS[0], pipeline.content_field
    good = {"object": {"sku": 1}, "string": "hello", "any": {"sku": 1}}[pipeline.content_kind]
    cases: list[tuple[str, Any]] = []
    if pipeline.id_field is not None:
        name = pipeline.id_field
        if pipeline.id_required:
            missing = {k: v for k, v in pipeline.body(good_id, good).items() if k != name}
            cases.append((f"{name} missing", missing))
        cases += [
            (f"{name} is a number", pipeline.body(7, good)),
            (f"{name} is null", pipeline.body(None, good)),
        ]
    wrongs: dict[str, list[tuple[str, Any]]] = {
        "object": [("a string", "x"), ("a list", [1, 2])],
        "string": [("a number", 7), ("an object", {"k": 1}), ("a list", ["x"])],
        "any": [],
    }
    wrong = wrongs[pipeline.content_kind]
    cases += [(f"{field} is {what}", pipeline.body(good_id, value)) for what, value in wrong]
    if pipeline.source == "direct":
        cases += [("the event is a list", [1, 2]), ("the event is a string", "hello")]
    else:
        cases += [
            ("the body is not JSON", '{"' + (pipeline.id_field or field) + '": '),
            ("the body is a JSON list", "[1, 2]"),
        ]
        if pipeline.source != "sqs":
            cases.append(("no body", None))
    return tuple(cases)


def case_named(cases: tuple[tuple[str, Any], ...], reason: str) -> tuple[str, Any]:
    """The invalid case of that name (a scenario file names cases by what is wrong)."""
    found: Mapping[str, Any] = dict(cases)
    if reason not in found:
        raise KeyError(f"no invalid request {reason!r}; known: {', '.join(found)}")
    return reason, found[reason]
