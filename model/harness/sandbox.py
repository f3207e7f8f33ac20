"""The embedded AWS the harness runs handlers in: moto, fake credentials, no way out.

Started once per process and reset per example by clearing moto's DynamoDB and SQS state
directly, which costs microseconds where a new ``mock_aws`` costs ~65 ms (DESIGN.md 3).
Three process-wide patches make runs safe and deterministic whatever client the handler made:

- a guard on botocore's HTTP send: anything moto did not answer would go to the network,
  and is refused with ``RealAWSRefused`` instead;
- botocore's retry sleeps are recorded, not slept;
- every standard-mode retry quota is refilled at each reset, so an example never depends on
  the retries an earlier one spent.

Two more only make steps cheaper, and change no answer a handler gets: moto's UpdateExpression
parser is memoised, and requests are not SigV4-signed (only moto reads them).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import time
import weakref
from decimal import Decimal
from typing import Any

import attrs

from model.harness import backends, wire
from model.harness.backends import RealAWSRefused
from model.harness.faults import Injector

REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE_NAME = "queuecheck-messages"
QUEUE_NAME = "queuecheck-intake"
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}
# Settings that could point a client at a real account or endpoint.
DANGEROUS_ENVIRONMENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@attrs.define
class _Sleeps:
    """Stands in for the ``time`` module inside botocore: sleeps are counted, not slept."""

    real: Any
    slept: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_plain(item) for item in value]
    return value


def _attribute(value: Any) -> Any:
    """A moto attribute value (``DynamoType``) as plain Python, read in place: what
    ``_plain(TypeDeserializer().deserialize(value.to_regular_json()))`` gives, without deep-copying
    every item after every step. Sets and binary take that long way."""
    kind, raw = value.type, value.value
    if kind in ("S", "BOOL"):
        return raw
    if kind == "N":
        from boto3.dynamodb.types import DYNAMODB_CONTEXT

        return _plain(DYNAMODB_CONTEXT.create_decimal(raw))
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: _attribute(item) for key, item in raw.items()}
    if kind == "L":
        return [_attribute(item) for item in raw]
    from boto3.dynamodb.types import TypeDeserializer

    return _plain(TypeDeserializer().deserialize(value.to_regular_json()))


@attrs.frozen
class Layout:
    """A table and a queue as one intake expects them: names, key, and the two variables
    that tell the handler where they are."""

    table_name: str = TABLE_NAME
    key: tuple[str, ...] = ("messageId",)
    """The key attributes (strings): partition key, then the sort key if there is one."""
    queue_name: str = QUEUE_NAME
    table_env: str = "MESSAGES_TABLE"
    queue_env: str = "MESSAGES_QUEUE_URL"
    ttl: str | None = "ttl"


CONTRACT_LAYOUT = Layout()


def layout_named(table_env: str, queue_env: str, key: tuple[str, ...]) -> Layout:
    """A table and queue named after the variables that tell a handler where they are (the
    names stay the same for the whole run: a handler may read them once, at import)."""

    def name(env: str) -> str:
        return "queuecheck-" + re.sub(r"[^a-z0-9]+", "-", env.lower()).strip("-")

    return Layout(name(table_env), key, name(queue_env), table_env, queue_env, ttl=None)


@attrs.define
class Sandbox:
    """The process's moto, with the table and queue of the intake under test (by default
    laid out as the contract says; ``reset`` with another layout switches to it)."""

    injector: Injector
    sleeps: _Sleeps
    layout: Layout = CONTRACT_LAYOUT
    backend: str = "moto"
    servers: backends.Servers | None = None
    """The HTTP backend's servers (None: in-process moto)."""
    recorder: wire.Recorder = attrs.Factory(wire.Recorder)
    """Over HTTP, every message a queue accepted: the queue as the harness sees it."""
    _queue_urls: dict[str, str] = attrs.Factory(dict)
    _quotas: weakref.WeakSet[Any] = attrs.Factory(weakref.WeakSet)
    _admin: Any = None
    _wire_table: tuple[str, tuple[str, ...]] | None = None
    suffix: str = ""
    """Appended to table and queue names: unique per run on a real account."""
    created: list[tuple[str, str]] = attrs.Factory(list)
    """What this run created on a real account, to delete at the end: (kind, name or URL)."""
    tags: dict[str, str] = attrs.Factory(dict)

    @property
    def over_http(self) -> bool:
        return self.servers is not None

    @property
    def table_name(self) -> str:
        return self.layout.table_name + self.suffix

    @property
    def queue_url(self) -> str:
        return self._queue_urls.get(self.layout.queue_name, "")

    @property
    def environment(self) -> dict[str, str]:
        return {self.layout.table_env: self.table_name, self.layout.queue_env: self.queue_url}

    def client(self, service: str) -> Any:
        """A new client for the harness's own reads and races (call inside ``injector.pause()``)."""
        import boto3

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or REGION
        return boto3.session.Session(region_name=region).client(service)  # type: ignore[call-overload]

    def admin(self, service: str) -> Any:
        """The harness's own client for ``service``, made once (clients cost ~10 ms to make)."""
        if self._admin is None:
            self._admin = {}
        if service not in self._admin:
            self._admin[service] = self.client(service)
        return self._admin[service]

    def _backends(self) -> tuple[Any, Any]:
        from moto.dynamodb.models import dynamodb_backends
        from moto.sqs.models import sqs_backends

        return dynamodb_backends[ACCOUNT][REGION], sqs_backends[ACCOUNT][REGION]

    def reset(self, layout: Layout = CONTRACT_LAYOUT) -> None:
        """Empty table and queue, forget faults, refill retry quotas: a fresh world, laid out
        as ``layout`` says (the contract's unless told otherwise)."""
        self.layout = layout
        self.injector.reset()
        self.sleeps.slept = 0.0
        for quota in list(self._quotas):
            quota._available_capacity = quota._max_capacity
        if self.over_http:
            self._reset_over_http()
            return
        dynamodb, sqs = self._backends()
        table = dynamodb.tables.get(self.table_name)
        queue = sqs.queues.get(layout.queue_name)
        if table is None or queue is None or self._key_of(table) != layout.key:
            self._create()
            return
        table.items.clear()
        queue._messages.clear()

    def _reset_over_http(self) -> None:
        """Empty the table by what a Scan shows (a new table only for a new layout), and
        forget the recorded messages: the queue itself is never read."""
        self.recorder.sent.clear()
        if self._wire_table != (self.table_name, self.layout.key):
            self._create()
            self._wire_table = (self.table_name, self.layout.key)
            return
        with self.injector.pause():
            if self.backend != "aws":  # never read; kept small (AWS allows a purge a minute)
                self.admin("sqs").purge_queue(QueueUrl=self.queue_url)
            dynamodb = self.admin("dynamodb")
            for item in wire.scan(dynamodb, self.table_name):
                key = {name: item[name] for name in self.layout.key}
                dynamodb.delete_item(TableName=self.table_name, Key=key)

    def _wait_for_table(self, dynamodb: Any, *, gone: bool = False) -> None:
        """dynalite (and AWS) answer CREATING/DELETING first; moto is ACTIVE at once."""
        for _ in range(500):
            try:
                status = dynamodb.describe_table(TableName=self.table_name)["Table"]["TableStatus"]
            except dynamodb.exceptions.ResourceNotFoundException:
                if gone:
                    return
                continue
            if not gone and status == "ACTIVE":
                return
            if self.backend == "aws":  # seconds there; locally each poll's round trip is enough
                time.sleep(0.25)
        raise backends.BackendError(f"table {self.table_name} never became ready")

    @staticmethod
    def _key_of(table: Any) -> tuple[str, ...]:
        return tuple(name for name in (table.hash_key_attr, table.range_key_attr) if name)

    def _create(self) -> None:
        layout = self.layout
        with self.injector.pause():
            dynamodb, sqs = self.admin("dynamodb"), self.admin("sqs")
            tables = dynamodb.list_tables()["TableNames"]
            if self.table_name in tables:  # a layout of the same name with another key
                dynamodb.delete_table(TableName=self.table_name)
                self._wait_for_table(dynamodb, gone=True)
            tags = [{"Key": key, "Value": value} for key, value in self.tags.items()]
            dynamodb.create_table(
                **({"Tags": tags} if tags else {}),
                TableName=self.table_name,
                KeySchema=[
                    {"AttributeName": name, "KeyType": kind}
                    for name, kind in zip(layout.key, ("HASH", "RANGE"), strict=False)
                ],
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": "S"} for name in layout.key
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            self._wait_for_table(dynamodb)
            if layout.ttl:
                # dynalite has no TTL (docs/backends.md); no check relies on AWS expiring items
                with contextlib.suppress(dynamodb.exceptions.ClientError):
                    dynamodb.update_time_to_live(
                        TableName=self.table_name,
                        TimeToLiveSpecification={"Enabled": True, "AttributeName": layout.ttl},
                    )
            if self.backend == "aws":
                self.created.append(("table", self.table_name))
            url = sqs.create_queue(
                QueueName=layout.queue_name + self.suffix,
                **({"tags": self.tags} if self.tags else {}),
            )["QueueUrl"]
            self._queue_urls[layout.queue_name] = url
            if self.backend == "aws":
                self.created.append(("queue", url))

    def delete_created(self) -> list[str]:
        """Delete what this run created on a real account; what was deleted, in words."""
        deleted = []
        with self.injector.pause():
            self.injector.scheduler = None
            while self.created:
                kind, name = self.created.pop()
                with contextlib.suppress(Exception):
                    if kind == "table":
                        self.admin("dynamodb").delete_table(TableName=name)
                    else:
                        self.admin("sqs").delete_queue(QueueUrl=name)
                    deleted.append(f"{kind} {name}")
        return deleted

    def typed_items(self) -> dict[str, dict[str, Any]]:
        """Every item exactly as DynamoDB holds it ({"S": ...}, {"N": "2"}), by messageId."""
        if self.over_http:
            with self.injector.pause():
                found = wire.scan(self.admin("dynamodb"), self.table_name)
            return {str(next(iter(item["messageId"].values()))): item for item in found}
        dynamodb, _ = self._backends()
        table: Any = dynamodb.tables[self.table_name]
        return {
            str(getattr(key, "value", key)): item.to_json()["Attributes"]
            for key, item in table.items.items()
        }

    def _scanned(self) -> list[dict[str, Any]]:
        with self.injector.pause():
            return [
                wire.plain_item(item) for item in wire.scan(self.admin("dynamodb"), self.table_name)
            ]

    def items(self) -> dict[str, dict[str, Any]]:
        """Every stored item as plain Python values, by messageId (read from moto directly, or
        by a consistent Scan over HTTP)."""
        if self.over_http:
            return {str(item.get("messageId")): item for item in self._scanned()}
        dynamodb, _ = self._backends()
        table = dynamodb.tables[self.table_name]
        return {
            str(key.value if hasattr(key, "value") else key): {
                name: _attribute(value) for name, value in item.attrs.items()
            }
            for key, item in table.items.items()
        }

    def all_items(self) -> list[dict[str, Any]]:
        """Every stored item of the current table as plain Python values, whatever its key."""
        if self.over_http:
            return self._scanned()
        dynamodb, _ = self._backends()
        table = dynamodb.tables[self.table_name]
        return [
            {name: _attribute(value) for name, value in item.attrs.items()}
            for item in table.all_items()
        ]

    def bodies(self) -> list[str]:
        """The body of every message in the current queue, in order."""
        if self.over_http:
            return [body for body, _ in self.recorder.sent]
        _, sqs = self._backends()
        return [message.body for message in sqs.queues[self.layout.queue_name]._messages]

    def messages(self) -> list[tuple[str, dict[str, str]]]:
        """Every message in the queue, in order: (body, string message attributes)."""
        if self.over_http:
            return [(body, dict(attributes)) for body, attributes in self.recorder.sent]
        _, sqs = self._backends()
        queue = sqs.queues[self.layout.queue_name]
        return [
            (
                message.body,
                {
                    name: str(value.get("string_value", value.get("StringValue", "")))
                    for name, value in message.message_attributes.items()
                },
            )
            for message in queue._messages
        ]


_SANDBOX: Sandbox | None = None


def _refuse_real_send(self: Any, request: Any) -> Any:
    raise RealAWSRefused(
        f"refused to send {request.method} {request.url}: only moto may answer inside queuecheck's "
        "sandbox. Create clients after the sandbox starts: moto hooks only sessions made after "
        "its import."
    )


def start() -> Sandbox:
    """Start (once per process) and return the sandbox; later calls return the same one.
    The backend is ``model.harness.backends.current()``: in-process moto unless told otherwise."""
    global _SANDBOX  # noqa: PLW0603 - one moto per process is the point
    if _SANDBOX is not None:
        return _SANDBOX
    name = backends.current()
    refusal = backends.refused(name)
    if refusal:
        raise backends.BackendError(refusal)
    if name != "moto":
        _SANDBOX = _start_over_http(name)
        return _SANDBOX
    _use_fake_environment()

    import importlib

    import moto

    # Patched through Any on purpose: these are private seams, not typed APIs.
    endpoint: Any = importlib.import_module("botocore.endpoint")
    moto_models: Any = importlib.import_module("moto.core.models")
    expressions: Any = importlib.import_module("moto.dynamodb.parsing.expressions")
    signers: Any = importlib.import_module("botocore.signers")

    endpoint.Endpoint._send = _refuse_real_send
    injector = Injector()
    sandbox = _with_counted_retries(injector)

    # moto parses every UpdateExpression twice per UpdateItem, a sixth of the call's cost. The
    # tree depends on the text alone and moto deep-copies it before resolving names and values,
    # so one parse per distinct text serves every call (errors are not cached: they re-raise).
    parser = expressions.UpdateExpressionParser
    cached_make: Any = functools.lru_cache(maxsize=256)(parser.make.__func__)
    parser.make = classmethod(cached_make)
    # Only moto answers here and it checks no signature: skip SigV4 signing of every request
    # (a tenth of a submit). Presigned URLs are signed by another path and stay signed.
    signers.RequestSigner.handler = lambda signer, operation_name=None, request=None, **_: None

    stubber = moto_models.botocore_stubber
    process = stubber.process_request
    stubber.process_request = lambda request: injector.intercept(request, process)
    moto.mock_aws().start()
    os.environ.update(FAKE_ENVIRONMENT)  # mock_aws().start() set its own FOOBARKEY keys
    sandbox.reset()
    _SANDBOX = sandbox
    return sandbox


def _use_fake_environment() -> None:
    """Fake credentials and region; nothing that could point a client at a real account."""
    for name in DANGEROUS_ENVIRONMENT:
        os.environ.pop(name, None)
    os.environ.update(FAKE_ENVIRONMENT)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def _with_counted_retries(injector: Injector, **options: Any) -> Sandbox:
    """A new sandbox, on whichever backend: botocore's retry sleeps are counted on it, not
    slept, and the retry quotas botocore creates are refilled by its reset."""
    import importlib

    endpoint: Any = importlib.import_module("botocore.endpoint")
    bucket: Any = importlib.import_module("botocore.retries.bucket")
    quota_module: Any = importlib.import_module("botocore.retries.quota")
    sandbox = Sandbox(injector, _Sleeps(endpoint.time), **options)
    endpoint.time = sandbox.sleeps
    bucket.time = sandbox.sleeps
    original_quota_init = quota_module.RetryQuota.__init__

    def tracked_quota_init(quota: Any, *args: Any, **kwargs: Any) -> None:
        original_quota_init(quota, *args, **kwargs)
        sandbox._quotas.add(quota)

    quota_module.RetryQuota.__init__ = tracked_quota_init
    return sandbox


def _start_over_http(name: str) -> Sandbox:
    """The sandbox on a backend that answers over HTTP on 127.0.0.1: same fake credentials,
    same refusal of any other host, faults injected in the client stack."""
    if name == "aws":
        return _start_on_aws()
    _use_fake_environment()
    sandbox = _with_counted_retries(Injector(), backend=name)
    wire.wrap_send(
        sandbox.injector,
        sandbox.recorder,
        lambda: sandbox.servers.endpoints if sandbox.servers else None,
    )
    sandbox.servers = backends.start_servers(name)
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = sandbox.servers.endpoints.dynamodb
    os.environ["AWS_ENDPOINT_URL_SQS"] = sandbox.servers.endpoints.sqs
    sandbox.reset()
    return sandbox


def _start_on_aws() -> Sandbox:
    """A real account (``--backend aws``, refused unless confirmed, never under CI): the
    caller's own credentials and region; a uniquely named, tagged, on-demand table and queue,
    deleted when the process ends however it ends. Faults stay in the client stack.

    ``QUEUECHECK_AWS_ENDPOINT_URL`` points both services elsewhere: the tests use a moto server
    standing in for the account."""
    import atexit
    import secrets
    import signal

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or REGION
    override = os.environ.get(backends.AWS_ENDPOINT_ENV)
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"):
        os.environ.pop(variable, None)
    endpoints = backends.Endpoints(
        override or f"https://dynamodb.{region}.amazonaws.com",
        override or f"https://sqs.{region}.amazonaws.com",
    )
    run = secrets.token_hex(4)
    sandbox = _with_counted_retries(
        Injector(),
        backend="aws",
        servers=backends.Servers(endpoints),
        suffix=f"-{run}",
        tags={"queuecheck": "verify", "queuecheck-run": run},
    )
    wire.wrap_send(sandbox.injector, sandbox.recorder, lambda: endpoints)
    if override:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoints.dynamodb
        os.environ["AWS_ENDPOINT_URL_SQS"] = endpoints.sqs

    def clean_up() -> None:
        deleted = sandbox.delete_created()
        print(
            f"queuecheck: on AWS ({region}) this run made {sandbox.recorder.requests} requests; "
            f"deleted {', '.join(deleted) or 'nothing'}",
            file=sys.stderr,
        )

    atexit.register(clean_up)
    # Ctrl-C and SIGTERM end the run through atexit, even where the parent ignored SIGINT
    # (a child inherits that): what the run created must not outlive it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sandbox.reset()
    print(
        f"queuecheck: on AWS ({region}) created table {sandbox.table_name} and queue "
        f"{sandbox.queue_url}, tagged queuecheck-run={run}; both are deleted at the end",
        file=sys.stderr,
    )
    return sandbox
