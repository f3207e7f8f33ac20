"""A pipeline file, read and checked: the description of an intake the harness can verify.

Users write these by hand, so the loader reports every problem it finds, one line each,
naming the key and saying what it expected, before anything runs. Pure: reading the file is
the only I/O here, and nothing of AWS, Hypothesis or the harness is imported.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

SOURCES = ("rest", "http", "direct", "sqs")
RUNTIMES = ("python", "node", "command")
CONTENT_KINDS = ("object", "string", "any")
WRITTEN = ("before_send", "after_send")
INVALID_IN_A_BATCH = ("refuse", "drop")
# What a failed send may leave, by the intake's shape: two statuses (pending, then queued), or
# one status written before the send, or one written after it.
SEND_FAILURE_RESULTS = {
    "two statuses": ("pending", "absent"),
    "before_send": ("kept", "absent"),
    "after_send": ("absent",),
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_HANDLER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")
_NODE_HANDLER = re.compile(r"^[^:]+\.(mjs|cjs|js):[A-Za-z_$][\w$]*\Z")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Every key the format knows, by table; values say what type each must have.
_SCHEMA: dict[str, dict[str, str]] = {
    "": {
        "handler": "string",
        "runtime": "string",
        "command": "array of strings",
        "env": "table",
        "event": "table",
        "answer": "table",
        "table": "table",
        "queue": "table",
    },
    "event": {
        "source": "string",
        "method": "string",
        "path": "string",
        "id_field": "string",
        "content_field": "string",
        "content_kind": "string",
        "extra": "table",
        "id_required": "boolean",
        "base64": "boolean",
        "headers": "table",
        "authorizer": "table",
    },
    "answer": {
        "accepted": "array of integers",
        "id_path": "string",
        "partial_batch": "boolean",
        "invalid": "string",
    },
    "table": {
        "env": "string",
        "key": "table",
        "status": "string",
        "pending": "string",
        "queued": "string",
        "later": "array of strings",
        "mutable": "array of strings",
        "written": "string",
        "on_send_failure": "string",
    },
    "queue": {"env": "string", "id_path": "string"},
}
_OPTIONAL = {
    "handler",
    "runtime",
    "command",
    "env",
    "answer",
    "answer.accepted",
    "answer.id_path",
    "answer.partial_batch",
    "answer.invalid",
    "event.method",
    "event.path",
    "event.id_field",
    "event.content_kind",
    "event.extra",
    "event.id_required",
    "event.base64",
    "event.headers",
    "event.authorizer",
    "table.pending",
    "table.later",
    "table.written",
}
# Keys only some sources may carry, and which.
_SOURCES_OF = {
    "event.method": ("rest", "http"),
    "event.path": ("rest", "http"),
    "event.headers": ("rest", "http"),
    "event.authorizer": ("rest", "http"),
    "event.base64": ("rest",),
    "answer.accepted": ("rest", "http"),
    "answer.id_path": ("rest", "http", "direct"),
    "answer.partial_batch": ("sqs",),
    "answer.invalid": ("sqs",),
}
# Why each of those keys means nothing to the other sources: what the key says.
_WHY_NOT = {
    "event.method": "it is the method of the route API Gateway invokes the handler for",
    "event.path": "it is the route API Gateway invokes the handler for",
    "event.headers": "only API Gateway passes request headers",
    "event.authorizer": "only API Gateway runs an authorizer and passes what it found",
    "event.base64": "only a REST API base64-encodes a JSON body (as its binary media types "
    "say); an HTTP API never does",
    "answer.accepted": "it lists the HTTP statuses of an accepted request, and only API "
    "Gateway answers over HTTP",
    "answer.id_path": "it is where the answer names the id the handler made, and an SQS "
    "message's body carries its id (event.id_field)",
    "answer.partial_batch": "it says Lambda reads the answer as a partial batch response "
    "(ReportBatchItemFailures), which only an SQS event source mapping does",
    "answer.invalid": "it says what an SQS handler does with a message it cannot use; "
    "other sources answer an invalid request to their caller",
}


class PipelineFileError(Exception):
    """A pipeline file that cannot be used; ``problems`` holds one line per mistake."""

    def __init__(self, origin: str, problems: Sequence[str]) -> None:
        self.origin = origin
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{origin}: {problem}" for problem in self.problems))


@attrs.frozen
class KeyPart:
    """One key attribute and how an id maps to it: ``INV#{id}``, or a constant like ``HEAD``."""

    attribute: str
    template: str

    @property
    def carries_id(self) -> bool:
        return "{id}" in self.template

    def value(self, identifier: str) -> str:
        return self.template.replace("{id}", identifier)

    def match(self, value: object) -> str | None:
        """The id this stored value holds (``""`` for a constant that matches), else None."""
        if not isinstance(value, str):
            return None
        if not self.carries_id:
            return "" if value == self.template else None
        prefix, _, suffix = self.template.partition("{id}")
        fits = len(value) > len(prefix) + len(suffix)
        if fits and value.startswith(prefix) and value.endswith(suffix):
            return value[len(prefix) : len(value) - len(suffix)]
        return None


@attrs.frozen
class Pipeline:
    """Everything the harness needs to drive one intake and read what it stores."""

    origin: str
    handler: str | None
    source: str
    method: str
    path: str
    id_field: str | None
    """Where a request carries its id; None: the handler makes the id (see ``answer_id_path``)."""
    content_field: str
    extra: Mapping[str, Any]
    id_required: bool
    base64: bool
    """The API delivers bodies base64-encoded (a REST API with binary media types)."""
    accepted: frozenset[int]
    table_env: str
    key: tuple[KeyPart, ...]
    status: str
    pending: str | None
    """The status before the send; None: the intake writes one status only, ``queued``."""
    queued: str
    later: tuple[str, ...]
    mutable: frozenset[str]
    on_send_failure: str
    queue_env: str
    id_path: tuple[str, ...]
    runtime: str = "python"
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = attrs.field(factory=dict)
    """Variables the handler reads, set before it is imported."""
    content_kind: str = "object"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    authorizer: Mapping[str, Any] | None = None
    answer_id_path: tuple[str, ...] = ()
    """Where an accepted answer names the id the handler made."""
    partial_batch: bool = False
    invalid: str = "refuse"
    written: str | None = None
    """With one status: whether it is written ``before_send`` or ``after_send``."""

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status the file names, in the only order they may follow each other."""
        return (*((self.pending,) if self.pending else ()), self.queued, *self.later)

    @property
    def one_status(self) -> bool:
        return self.pending is None

    @property
    def first(self) -> str:
        """The status a new record is written with."""
        return self.pending or self.queued

    @property
    def handler_makes_ids(self) -> bool:
        return self.id_field is None

    @property
    def folder(self) -> Path:
        """The pipeline file's folder: a node handler's ``PATH`` is read from there."""
        return Path(self.origin).resolve().parent

    def rank(self, status: object) -> int | None:
        """Where a stored status stands in the order (None: not one of the file's)."""
        return self.statuses.index(status) if status in self.statuses else None

    def at_least_queued(self, status: object) -> bool:
        rank = self.rank(status)
        return rank is not None and rank >= self.statuses.index(self.queued)

    @property
    def route(self) -> str:
        if self.source == "direct":
            return "direct invocation"
        if self.source == "sqs":
            return "SQS batch"
        return f"{self.method} {self.path}"

    def key_for(self, identifier: str) -> dict[str, str]:
        return {part.attribute: part.value(identifier) for part in self.key}

    def id_of_key(self, item: Mapping[str, Any]) -> str | None:
        """The id an item belongs to, or None when its key does not fit the file's template."""
        found = [part.match(item.get(part.attribute)) for part in self.key]
        if any(value is None for value in found):
            return None
        ids = {value for value, part in zip(found, self.key, strict=True) if part.carries_id}
        return ids.pop() if len(ids) == 1 else None

    def describe_key(self, identifier: str) -> str:
        return "/".join(part.value(identifier) for part in self.key)

    def id_in_message(self, body: object) -> str | None:
        """The id a queue message's parsed JSON body carries at ``id_path`` (None: none)."""
        value = body
        for step in self.id_path:
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
        return value if isinstance(value, str) else None

    def id_in_answer(self, value: object) -> str | None:
        """The id an accepted answer's JSON value names at ``answer.id_path`` (None: none)."""
        for step in self.answer_id_path:
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
        return value if isinstance(value, str) and self.answer_id_path else None

    def body(self, identifier: object, content: object) -> dict[str, Any]:
        """A request body in the file's words: the id (where requests carry one), the content
        and the fixed extras."""
        own = {} if self.id_field is None else {self.id_field: identifier}
        return {**self.extra, **own, self.content_field: content}


# -- reading a file ------------------------------------------------------------------------


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        kinds = sorted({_type_name(item).split()[-1] + "s" for item in value})
        return f"an array of {' and '.join(kinds)}" if kinds else "an empty array"
    return names.get(type(value), type(value).__name__)


def _fits(value: object, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "table":
        return isinstance(value, dict)
    if expected == "array of strings":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if expected == "array of integers":
        return isinstance(value, list) and all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        )
    raise AssertionError(expected)


def _article(expected: str) -> str:
    return (
        "an array" + expected.removeprefix("array")
        if expected.startswith("array")
        else (f"a {expected}")
    )


def _shape_problems(document: Mapping[str, Any]) -> list[str]:
    """Unknown, missing and mistyped keys, every one of them."""
    problems = []
    event = document.get("event")
    source = event.get("source") if isinstance(event, dict) else None
    for section, keys in _SCHEMA.items():
        table = document if not section else document.get(section)
        if not isinstance(table, dict):
            continue
        prefix = f"{section}." if section else ""
        for name in table:
            if name not in keys:
                known = ", ".join(sorted(keys))
                where = f"[{section}]" if section else "the top level"
                problems.append(f"unknown key '{prefix}{name}' in {where} (known keys: {known})")
        for name, expected in keys.items():
            dotted = f"{prefix}{name}"
            if name not in table:
                if dotted not in _OPTIONAL:
                    problems.append(f"missing key {dotted} ({_article(expected)})")
                continue
            if not _fits(table[name], expected):
                problems.append(
                    f"{dotted} must be {_article(expected)}, not {_type_name(table[name])}"
                )
    if source in ("rest", "http"):
        for dotted in ("event.method", "event.path", "answer.accepted"):
            section, _, name = dotted.partition(".")
            if not isinstance(document.get(section), dict) or name not in document[section]:
                kind = _SCHEMA[section][name]
                problems.append(f"missing key {dotted} ({_article(kind)}): {source} needs it")
    return problems


def _in_words(names: Sequence[str]) -> str:
    """``rest``, ``rest and http``, ``rest, http and direct``."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _source_problems(document: Mapping[str, Any], source: str) -> list[str]:
    """Keys the source cannot use, and the ids the source needs."""
    event, answer = document["event"], document.get("answer", {})
    problems = []
    for dotted, sources in _SOURCES_OF.items():
        section, _, name = dotted.partition(".")
        if name in document.get(section, {}) and source not in sources:
            allowed = _in_words(sources)
            problems.append(
                f"{dotted} is only for {allowed} sources, not {source}: {_WHY_NOT[dotted]}"
            )
    if "id_field" not in event:
        if source == "sqs":
            problems.append(
                "event.id_field is needed for an sqs source: each message's JSON body carries "
                "the id of its record"
            )
        elif "id_path" not in answer:
            problems.append(
                "without event.id_field the handler makes the id: add answer.id_path, where an "
                'accepted answer names it (e.g. id_path = "taskId")'
            )
        if "id_required" in event:
            problems.append("event.id_required needs event.id_field: a request carries no id")
    elif "id_path" in answer and source != "sqs":  # on sqs, refused above with its reason
        problems.append(
            "answer.id_path is for intakes whose handler makes the id; this one's requests carry "
            f"it in {event['id_field']!r}"
        )
    return problems


def _runtime_problems(document: Mapping[str, Any]) -> list[str]:
    runtime = document.get("runtime", "python")
    handler, command = document.get("handler"), document.get("command")
    if runtime not in RUNTIMES:
        return [f"runtime {runtime!r} must be one of {', '.join(map(repr, RUNTIMES))}"]
    problems = []
    if runtime == "command":
        if handler is not None:
            problems.append("handler is for the python and node runtimes; a command is its own")
        if not command:
            problems.append(
                'runtime = "command" needs command = ["path/to/runner", ...]: an executable that '
                "speaks queuecheck's runner protocol (docs/runners.md)"
            )
        return problems
    if command is not None:
        problems.append(f'command is for runtime = "command", not {runtime!r}')
    if handler is None:
        return problems
    if runtime == "python" and not _HANDLER.match(handler):
        problems.append(f"handler {handler!r} must be module:function, e.g. billing.intake:handler")
    if runtime == "node" and not _NODE_HANDLER.match(handler):
        problems.append(
            f"handler {handler!r} must be PATH:EXPORT, a .mjs, .cjs or .js file and its exported "
            'function, e.g. "parcels.mjs:handler"'
        )
    return problems


def _value_problems(document: Mapping[str, Any]) -> list[str]:
    """Mistakes in the values themselves, once every key has the right type."""
    problems: list[str] = _runtime_problems(document)
    event, table, queue = document["event"], document["table"], document["queue"]
    answer = document.get("answer", {})
    source = event["source"]
    if source not in SOURCES:
        problems.append(f"event.source {source!r} must be one of {', '.join(map(repr, SOURCES))}")
        return problems
    problems += _source_problems(document, source)
    if source in ("rest", "http"):
        if event.get("method", "").upper() not in _METHODS:
            problems.append(f"event.method {event.get('method')!r} must be one of {_METHODS}")
        if not event.get("path", "").startswith("/"):
            problems.append(f"event.path {event.get('path')!r} must start with '/'")
        accepted = answer.get("accepted", [])
        if not accepted:
            problems.append("answer.accepted must list at least one status, e.g. [200, 202]")
        problems += [
            f"answer.accepted holds {status}, which is not a success status (200..299)"
            for status in accepted
            if not 200 <= status <= 299
        ]
        bad = sorted(k for k, v in event.get("headers", {}).items() if not isinstance(v, str))
        problems += [f"event.headers.{name} must be a string" for name in bad]
    if answer.get("invalid", "refuse") not in INVALID_IN_A_BATCH:
        problems.append(
            f"answer.invalid {answer['invalid']!r} must be 'refuse' (reported failed) or 'drop' "
            "(acknowledged, nothing written)"
        )
    for dotted in ("answer.id_path", "queue.id_path"):
        section, _, name = dotted.partition(".")
        path = (answer if section == "answer" else queue).get(name)
        if path is not None and (not path or any(not step for step in path.split("."))):
            problems.append(f"{dotted} {path!r} must be a dotted path like invoice.id")
    kind = event.get("content_kind", "object")
    if kind not in CONTENT_KINDS:
        problems.append(
            f"event.content_kind {kind!r} must be one of {', '.join(map(repr, CONTENT_KINDS))}"
        )
    id_field = event.get("id_field")
    if id_field == "" or not event["content_field"]:
        empty = "id_field" if id_field == "" else "content_field"
        problems.append(f"event.{empty} must not be empty")
    if id_field and id_field == event["content_field"]:
        problems.append("event.id_field and event.content_field name the same field")
    clashes = sorted({id_field, event["content_field"]} & set(event.get("extra", {})))
    if clashes:
        problems.append(f"event.extra must not set {clashes}: the harness generates them")
    problems += _key_problems(table["key"])
    problems += _status_problems(table)
    for where, value in (("table.env", table["env"]), ("queue.env", queue["env"])):
        if not _ENV_NAME.match(value):
            problems.append(f"{where} {value!r} is not an environment variable name")
    if table["env"] == queue["env"]:
        problems.append("table.env and queue.env name the same variable")
    problems += _env_problems(document.get("env", {}), table["env"], queue["env"])
    return problems


def _env_problems(env: Mapping[str, Any], table_env: str, queue_env: str) -> list[str]:
    problems = []
    for name, value in env.items():
        if not _ENV_NAME.match(name):
            problems.append(f"env.{name}: {name!r} is not an environment variable name")
        elif name in (table_env, queue_env):
            problems.append(
                f"env.{name} is set by the harness (it names the table or the queue it creates)"
            )
        if not isinstance(value, str):
            problems.append(f"env.{name} must be a string, not {_type_name(value)}")
    return problems


def _key_problems(key: Mapping[str, Any]) -> list[str]:
    problems = []
    if not 1 <= len(key) <= 2:
        problems.append(
            f"table.key has {len(key)} attributes; a DynamoDB key has 1 (partition) or 2 "
            "(partition, then sort)"
        )
    for name, template in key.items():
        if not isinstance(template, str):
            problems.append(
                f"table.key.{name} must be a string template, not {_type_name(template)}"
            )
        elif template.count("{id}") > 1:
            problems.append(f"table.key.{name} {template!r} holds {{id}} more than once")
        elif re.search(r"\{(?!id\})", template):
            problems.append(f"table.key.{name} {template!r}: the only placeholder is {{id}}")
    templates = [value for value in key.values() if isinstance(value, str)]
    if key and templates and not any("{id}" in value for value in templates):
        problems.append(
            "table.key must carry the id: no template holds {id} "
            '(e.g. key = { pk = "INV#{id}", sk = "HEAD" })'
        )
    return problems


def _status_problems(table: Mapping[str, Any]) -> list[str]:
    problems = []
    pending, written = table.get("pending"), table.get("written")
    statuses = [*([pending] if pending is not None else []), table["queued"]]
    statuses += table.get("later", [])
    seen: set[str] = set()
    for status in statuses:
        if not status:
            problems.append("statuses must not be empty strings")
        elif status in seen:
            problems.append(f"status {status!r} is listed twice (pending, queued and later)")
        seen.add(status)
    if pending is None and written is None:
        problems.append(
            "without table.pending the intake writes one status only: add table.written, "
            "'before_send' or 'after_send' (when it writes the record)"
        )
    elif pending is not None and written is not None:
        problems.append(
            "table.written is for intakes that write one status only; with table.pending the "
            "record is written before the send and updated after it"
        )
    elif written is not None and written not in WRITTEN:
        problems.append(f"table.written {written!r} must be 'before_send' or 'after_send'")
    shape = "two statuses" if pending is not None else written
    results = SEND_FAILURE_RESULTS.get(str(shape))
    if results is not None and table["on_send_failure"] not in results:
        choices = " or ".join(map(repr, results))
        where = "with two statuses" if pending is not None else f"written {written}"
        problems.append(
            f"table.on_send_failure {table['on_send_failure']!r} must be {choices} for an "
            f"intake {where}"
        )
    if table["status"] in table["key"]:
        problems.append(f"table.status {table['status']!r} is a key attribute; it cannot change")
    mutable = table["mutable"]
    if table["status"] not in mutable:
        problems.append(
            f"table.mutable must list the status attribute {table['status']!r}: "
            "a status update changes it"
        )
    problems += [
        f"table.mutable lists the key attribute {name!r}; key attributes never change"
        for name in mutable
        if name in table["key"]
    ]
    problems += [f"table.mutable lists {name!r} twice" for name in sorted(_repeated(mutable))]
    return problems


def _repeated(values: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    return {value for value in values if value in seen or seen.add(value)}  # type: ignore[func-returns-value]


def parse(document: Mapping[str, Any], origin: str = "<pipeline>") -> Pipeline:
    """The pipeline a parsed TOML document describes; ``PipelineFileError`` lists every mistake."""
    problems = _shape_problems(document)
    if problems:
        raise PipelineFileError(origin, problems)
    problems = _value_problems(document)
    if problems:
        raise PipelineFileError(origin, problems)
    event, table, queue = document["event"], document["table"], document["queue"]
    answer = document.get("answer", {})
    routed = event["source"] in ("rest", "http")
    return Pipeline(
        origin=origin,
        handler=document.get("handler"),
        source=event["source"],
        method=event["method"].upper() if routed else "",
        path=event["path"] if routed else "",
        id_field=event.get("id_field"),
        content_field=event["content_field"],
        extra=dict(event.get("extra", {})),
        id_required=event.get("id_required", True),
        base64=event.get("base64", False),
        accepted=frozenset(answer.get("accepted", ())),
        table_env=table["env"],
        key=tuple(KeyPart(name, template) for name, template in table["key"].items()),
        status=table["status"],
        pending=table.get("pending"),
        queued=table["queued"],
        later=tuple(table.get("later", ())),
        mutable=frozenset(table["mutable"]),
        on_send_failure=table["on_send_failure"],
        queue_env=queue["env"],
        id_path=tuple(queue["id_path"].split(".")),
        runtime=document.get("runtime", "python"),
        command=tuple(document.get("command", ())),
        env=dict(document.get("env", {})),
        content_kind=event.get("content_kind", "object"),
        headers=dict(event.get("headers", {})),
        authorizer=event.get("authorizer"),
        answer_id_path=tuple(answer["id_path"].split(".")) if "id_path" in answer else (),
        partial_batch=answer.get("partial_batch", False),
        invalid=answer.get("invalid", "refuse"),
        written=table.get("written"),
    )


def load(path: str | Path) -> Pipeline:
    """Read and check a pipeline file; every problem is a ``PipelineFileError`` line."""
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineFileError(origin, ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineFileError(origin, [f"cannot be read ({exc})"]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PipelineFileError(origin, [f"is not valid TOML: {exc}"]) from None
    return parse(document, origin)
