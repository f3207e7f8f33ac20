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

SOURCES = ("rest", "http", "direct")
SEND_FAILURE_RESULTS = ("pending", "absent")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_HANDLER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Every key the format knows, by table; values say what type each must have.
_SCHEMA: dict[str, dict[str, str]] = {
    "": {
        "handler": "string",
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
        "extra": "table",
        "id_required": "boolean",
        "base64": "boolean",
    },
    "answer": {"accepted": "array of integers"},
    "table": {
        "env": "string",
        "key": "table",
        "status": "string",
        "pending": "string",
        "queued": "string",
        "later": "array of strings",
        "mutable": "array of strings",
        "on_send_failure": "string",
    },
    "queue": {"env": "string", "id_path": "string"},
}
_OPTIONAL = {"event.extra", "event.id_required", "event.base64", "table.later", "handler"}
_REST_ONLY = ("event.method", "event.path", "answer")


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
    id_field: str
    content_field: str
    extra: Mapping[str, Any]
    id_required: bool
    base64: bool
    """The API delivers bodies base64-encoded (a REST API with binary media types)."""
    accepted: frozenset[int]
    table_env: str
    key: tuple[KeyPart, ...]
    status: str
    pending: str
    queued: str
    later: tuple[str, ...]
    mutable: frozenset[str]
    on_send_failure: str
    queue_env: str
    id_path: tuple[str, ...]

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status the file names, in the only order they may follow each other."""
        return (self.pending, self.queued, *self.later)

    def rank(self, status: object) -> int | None:
        """Where a stored status stands in the order (None: not one of the file's)."""
        return self.statuses.index(status) if status in self.statuses else None

    def at_least_queued(self, status: object) -> bool:
        rank = self.rank(status)
        return rank is not None and rank >= 1

    @property
    def route(self) -> str:
        return "direct invocation" if self.source == "direct" else f"{self.method} {self.path}"

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

    def body(self, identifier: object, content: object) -> dict[str, Any]:
        """A request body in the file's words: the id, the content and the fixed extras."""
        return {**self.extra, self.id_field: identifier, self.content_field: content}


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
    source = (
        document.get("event", {}).get("source") if isinstance(document.get("event"), dict) else None
    )
    direct = source == "direct"
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
                optional = dotted in _OPTIONAL or (direct and dotted in _REST_ONLY)
                if not optional:
                    problems.append(f"missing key {dotted} ({_article(expected)})")
                continue
            if not _fits(table[name], expected):
                problems.append(
                    f"{dotted} must be {_article(expected)}, not {_type_name(table[name])}"
                )
    return problems


def _value_problems(document: Mapping[str, Any]) -> list[str]:
    """Mistakes in the values themselves, once every key has the right type."""
    problems: list[str] = []
    event, table, queue = document["event"], document["table"], document["queue"]
    handler = document.get("handler")
    if handler is not None and not _HANDLER.match(handler):
        problems.append(f"handler {handler!r} must be module:function, e.g. billing.intake:handler")
    source = event["source"]
    if source not in SOURCES:
        problems.append(f"event.source {source!r} must be one of {', '.join(map(repr, SOURCES))}")
    if event.get("base64") and source != "rest":
        problems.append(
            "event.base64 is for rest sources: an HTTP API never base64-encodes a JSON body, "
            "and a direct invocation has no body to encode"
        )
    if source == "direct":
        present = [f"event.{key}" for key in ("method", "path") if key in event]
        present += ["[answer]"] if "answer" in document else []
        problems += [
            f"{key} is for rest and http sources; a direct invocation has no route or HTTP answer"
            for key in present
        ]
    elif source in SOURCES:
        if event.get("method", "").upper() not in _METHODS:
            problems.append(f"event.method {event.get('method')!r} must be one of {_METHODS}")
        if not event.get("path", "").startswith("/"):
            problems.append(f"event.path {event.get('path')!r} must start with '/'")
        accepted = document.get("answer", {}).get("accepted", [])
        if not accepted:
            problems.append("answer.accepted must list at least one status, e.g. [200, 202]")
        problems += [
            f"answer.accepted holds {status}, which is not a success status (200..299)"
            for status in accepted
            if not 200 <= status <= 299
        ]
    for name in ("id_field", "content_field"):
        if not event[name]:
            problems.append(f"event.{name} must not be empty")
    if event["id_field"] and event["id_field"] == event["content_field"]:
        problems.append("event.id_field and event.content_field name the same field")
    clashes = sorted({event["id_field"], event["content_field"]} & set(event.get("extra", {})))
    if clashes:
        problems.append(f"event.extra must not set {clashes}: the harness generates them")
    problems += _key_problems(table["key"])
    problems += _status_problems(table)
    for where, value in (("table.env", table["env"]), ("queue.env", queue["env"])):
        if not _ENV_NAME.match(value):
            problems.append(f"{where} {value!r} is not an environment variable name")
    if table["env"] == queue["env"]:
        problems.append("table.env and queue.env name the same variable")
    if table["on_send_failure"] not in SEND_FAILURE_RESULTS:
        choices = " or ".join(map(repr, SEND_FAILURE_RESULTS))
        problems.append(f"table.on_send_failure {table['on_send_failure']!r} must be {choices}")
    if not queue["id_path"] or any(not step for step in queue["id_path"].split(".")):
        problems.append(f"queue.id_path {queue['id_path']!r} must be a dotted path like invoice.id")
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
    statuses = [table["pending"], table["queued"], *table.get("later", [])]
    seen: set[str] = set()
    for status in statuses:
        if not status:
            problems.append("statuses must not be empty strings")
        elif status in seen:
            problems.append(f"status {status!r} is listed twice (pending, queued and later)")
        seen.add(status)
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
    direct = event["source"] == "direct"
    return Pipeline(
        origin=origin,
        handler=document.get("handler"),
        source=event["source"],
        method="" if direct else event["method"].upper(),
        path="" if direct else event["path"],
        id_field=event["id_field"],
        content_field=event["content_field"],
        extra=dict(event.get("extra", {})),
        id_required=event.get("id_required", True),
        base64=event.get("base64", False),
        accepted=frozenset(() if direct else document["answer"]["accepted"]),
        table_env=table["env"],
        key=tuple(KeyPart(name, template) for name, template in table["key"].items()),
        status=table["status"],
        pending=table["pending"],
        queued=table["queued"],
        later=tuple(table.get("later", ())),
        mutable=frozenset(table["mutable"]),
        on_send_failure=table["on_send_failure"],
        queue_env=queue["env"],
        id_path=tuple(queue["id_path"].split(".")),
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
