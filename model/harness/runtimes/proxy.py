"""The AWS-protocol proxy through which a handler in another process reaches DynamoDB and SQS.

The handler's process is pointed here (``AWS_ENDPOINT_URL_*``, queue URLs on this host) and
nowhere else. For each request the proxy reads what botocore's request would say (the service
and operation, the attempt number) and asks the same ``Injector.intercept`` the in-process
harness uses; then it carries out what the injector decided, as the wire would:

- an error answer: sent back (for SQS's query protocol, in that protocol's XML shape);
- a timeout or a connection error before the request left: the connection is dropped, and
  nothing reaches the service;
- applied, then lost: the service applies it, then the connection is dropped;
- a crash: the harness is told (``on_crash``) and kills the handler's process;
- a race: the injector runs it while the request is held here.

What passes reaches the service, except a DynamoDB request with an AttributeValue DynamoDB
would refuse (``attribute_values.validate``): the proxy answers DynamoDB's 400 for the service,
where moto's server would store some (two types in one value) and crash on others (``{}``,
which SDK v3 sends for ``{S: null}``).

Each runner gets its own port (a "lane"), so the harness knows which invocation a request
belongs to (``on_request(lane)`` runs before the injector, on the request's thread). Every
message a queue accepted is recorded, as ``wire.Recorder`` does at a client. Only the standard
library: ``http.server`` in front, ``http.client`` behind.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import socket
import struct
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from model.harness.faults import Injector, InvocationCrashed, WireResponse
from model.harness.runtimes import attribute_values
from model.harness.wire import Recorder

log = logging.getLogger(__name__)

TARGETS = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs"}
"""``X-Amz-Target`` prefixes of the JSON protocols, by service."""
QUERY_TARGETS = {"sqs": "AmazonSQS"}
"""Services that also speak the query protocol (``Action=`` in a form body), and the target
prefix their operations get, so the injector names them as it names the JSON ones."""
UPSTREAM_TIMEOUT_S = 60.0
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


_RESET = struct.pack("ii", 1, 0)
"""SO_LINGER on, 0 s: closing the socket resets the connection."""


class Headers(dict[str, str]):
    """Request headers by lower-case name; ``get`` takes any case (as botocore's do)."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


@attrs.frozen
class ProxyRequest:
    """A request as the injector and the recorder read one: ``.headers`` (with an
    ``X-Amz-Target`` made up for the query protocol), ``.url``, ``.method``, ``.body``."""

    method: str
    url: str
    headers: Headers
    body: bytes
    service: str
    query: bool = False
    """Sent in the query protocol (form body, XML answers)."""


@attrs.frozen
class _Answered:
    """What the service answered, as the recorder reads a botocore response."""

    status_code: int
    content: bytes


class _Dropped(Exception):
    """Close the connection without an answer."""


def _wire(status: int, headers: Mapping[str, str], body: bytes) -> WireResponse:
    # surrogateescape: any bytes survive the trip through text and back unchanged
    return status, dict(headers), body.decode("utf-8", "surrogateescape")


def _form(body: bytes) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _scope_service(authorization: str | None) -> str | None:
    """The service a SigV4 ``Authorization`` header was signed for (``.../sqs/aws4_request``)."""
    if not authorization or "Credential=" not in authorization:
        return None
    scope = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    return scope[3] if len(scope) >= 5 else None


def query_error(wire: WireResponse) -> WireResponse:
    """An injected JSON-protocol error in the query protocol's XML shape (same status, code)."""
    status, headers, body = wire
    code, _, fault = (headers.get("x-amzn-query-error") or "").partition(";")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}
    code = code or str(parsed.get("__type", "InternalError")).rpartition("#")[2]
    fault = fault or ("Receiver" if status >= 500 else "Sender")
    error = ET.Element("ErrorResponse", xmlns="http://queue.amazonaws.com/doc/2012-11-05/")
    detail = ET.SubElement(error, "Error")
    ET.SubElement(detail, "Type").text = fault
    ET.SubElement(detail, "Code").text = code
    ET.SubElement(detail, "Message").text = str(parsed.get("message", code))
    ET.SubElement(detail, "Detail")
    ET.SubElement(error, "RequestId").text = "00000000-0000-0000-0000-000000000000"
    text = ET.tostring(error, encoding="unicode")
    return status, {"Content-Type": "text/xml"}, text


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def record_query_send(recorder: Recorder, request: ProxyRequest, answered: _Answered) -> None:
    """What ``Recorder.accepted`` does for the JSON protocol, for SQS's query protocol."""
    operation = request.headers.get("x-amz-target", "").rpartition(".")[2]
    accepted = 200 <= answered.status_code < 300
    if operation not in ("SendMessage", "SendMessageBatch") or not accepted:
        return
    form = _form(request.body)

    def attributes(prefix: str) -> dict[str, str]:
        found, n = {}, 1
        while f"{prefix}MessageAttribute.{n}.Name" in form:
            name = form[f"{prefix}MessageAttribute.{n}.Name"]
            found[name] = form.get(f"{prefix}MessageAttribute.{n}.Value.StringValue", "")
            n += 1
        return found

    if operation == "SendMessage":
        recorder.sent.append((form.get("MessageBody", ""), attributes("")))
        return
    ok = {
        element.text
        for element in ET.fromstring(answered.content).iter()
        if _local(element.tag) == "SendMessageBatchResultEntry"
        for element in element
        if _local(element.tag) == "Id"
    }
    n = 1
    while (prefix := f"SendMessageBatchRequestEntry.{n}.") + "Id" in form:
        if form[prefix + "Id"] in ok:
            recorder.sent.append((form.get(prefix + "MessageBody", ""), attributes(prefix)))
        n += 1


class _LaneServer(ThreadingHTTPServer):
    """One lane's port: its request threads, and the connections open on it."""

    daemon_threads = True

    def __init__(self, proxy: Proxy, lane: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.proxy, self.lane = proxy, lane
        self.connections: set[socket.socket] = set()
        self.thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name=f"queuecheck-proxy-{lane}",
            daemon=True,
        )

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away before its answer (a runner killed by a crash fault, a
        time limit or Ctrl-C) is no error of the proxy's; anything else is still printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.shutdown()
        for connection in list(self.connections):  # keep-alive connections' threads wait
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self.thread.join()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs use it
    # Headers and body go out in two writes: without this, Nagle's algorithm holds the body
    # until the client's delayed ACK of the headers, 40 ms on every answer.
    disable_nagle_algorithm = True
    server: _LaneServer

    def do_POST(self) -> None:
        self.server.proxy.handle(self, self.server.lane)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_CONNECT = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request on stderr: the handler's calls are recorded elsewhere


@attrs.define
class Proxy:
    """Lanes (one port each) in front of the upstream services, with the injector between."""

    upstream: Mapping[str, str]
    """Base URL of each service it forwards to: ``{"dynamodb": "http://127.0.0.1:5000", ...}``."""
    injector: Injector
    recorder: Recorder = attrs.Factory(Recorder)
    on_request: Callable[[int], None] | None = None
    """Runs before the injector on the request's thread, with its lane (the harness sets the
    scheduler's identity there)."""
    on_crash: Callable[[int, str], None] | None = None
    """An injected crash at a request of this lane: kill that runner's process group."""
    refused: list[str] = attrs.Factory(list)
    """Requests that were not for the upstream services, in words."""
    _lanes: list[_LaneServer] = attrs.Factory(list)

    def start(self, lanes: int = 1) -> Proxy:
        """Listen on ``lanes`` free ports of 127.0.0.1 (more may be added later)."""
        while len(self._lanes) < lanes:
            server = _LaneServer(self, len(self._lanes))
            server.thread.start()
            self._lanes.append(server)
        return self

    def stop(self) -> None:
        """Close every port and connection and join their threads."""
        while self._lanes:
            self._lanes.pop().stop()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def url(self, lane: int = 0) -> str:
        return self._lanes[lane].url

    def queue_url(self, queue_url: str, lane: int = 0) -> str:
        """``queue_url`` on this lane's host: the SDKs send to the queue URL's host."""
        parts = urllib.parse.urlsplit(queue_url)
        return urllib.parse.urlunsplit(parts._replace(netloc=self.url(lane).split("://")[1]))

    def environment(self, lane: int = 0) -> dict[str, str]:
        """What a handler's process needs to reach the services through this lane only: the
        endpoints, fake credentials, the region, and no shared config or instance metadata."""
        url = self.url(lane)
        return {
            "AWS_ENDPOINT_URL": url,
            "AWS_ENDPOINT_URL_DYNAMODB": url,
            "AWS_ENDPOINT_URL_SQS": url,
            **FAKE_CREDENTIALS,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    # -- one request --

    def handle(self, handler: _Handler, lane: int) -> None:
        """Read, identify, inject, forward, answer (or drop) one request."""
        try:
            request = self._request(handler)
        except _Refused as refusal:
            self._refuse(handler, str(refusal), query=refusal.query)
            return
        try:
            if self.on_request is not None:
                self.on_request(lane)
            result = self.injector.intercept(request, self._proceed)
            if result is None:
                raise _Dropped
        except InvocationCrashed as crash:
            if self.on_crash is not None:
                self.on_crash(lane, str(crash))
            self._drop(handler)
            return
        except (ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError, _Dropped):
            self._drop(handler)  # before it left, or after it was applied: no answer either way
            return
        status, headers, body = result
        if request.query and status >= 300 and "xml" not in str(headers).lower():
            status, headers, body = query_error(result)
        self._answer(handler, status, headers, body.encode("utf-8", "surrogateescape"))

    def _request(self, handler: _Handler) -> ProxyRequest:
        method, path = handler.command, handler.path
        if method == "CONNECT" or not path.startswith("/"):
            raise _Refused(f"{method} {path}: queuecheck's proxy is no general HTTP proxy")
        if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
            raise _Refused(f"{method} {path}: a chunked body (the AWS SDKs send a length)")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = Headers((name.lower(), value) for name, value in handler.headers.items())
        target = headers.get("x-amz-target") or ""
        prefix, _, operation = target.partition(".")
        service, query = TARGETS.get(prefix), False
        if not target:
            service = _scope_service(headers.get("authorization"))
            operation = _form(body).get("Action", "") if service in QUERY_TARGETS else ""
            if not operation:
                raise _Refused(
                    f"{method} {path} names no operation (no X-Amz-Target, no query Action) "
                    f"for {service or 'an unknown service'}",
                    query=service in QUERY_TARGETS,
                )
            headers["x-amz-target"] = f"{QUERY_TARGETS[str(service)]}.{operation}"
            query = True
        if service is None or service not in self.upstream:
            raise _Refused(
                f"{target or method + ' ' + path}: this proxy forwards only to "
                f"{', '.join(sorted(self.upstream))}"
            )
        url = self.upstream[service].rstrip("/") + path
        return ProxyRequest(method, url, headers, body, service, query)

    def _proceed(self, request: ProxyRequest) -> WireResponse:
        """Forward to the upstream service and record what a queue accepted."""
        refused = _refused_by_dynamodb(request)
        if refused is not None:
            self.recorder.requests += 1  # it reached the service, which refused it
            return refused
        parts = urllib.parse.urlsplit(request.url)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=UPSTREAM_TIMEOUT_S
        )
        try:
            headers = {
                name: value for name, value in request.headers.items() if name not in _HOP_BY_HOP
            }
            if request.query:
                headers.pop("x-amz-target", None)  # made up here; the service never sent it
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(request.method, target, body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            answered_headers = {
                name: value
                for name, value in response.getheaders()
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
            }
        finally:
            connection.close()
        answered = _Answered(response.status, body)
        if request.query:
            record_query_send(self.recorder, request, answered)
        else:
            self.recorder.accepted(request, answered)
        self.recorder.requests += 1
        return _wire(response.status, answered_headers, body)

    @staticmethod
    def _answer(handler: _Handler, status: int, headers: Mapping[str, str], body: bytes) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    @staticmethod
    def _drop(handler: _Handler) -> None:
        """No answer: the connection is reset, as a timeout or a lost response leaves it."""
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)

    def _refuse(self, handler: _Handler, why: str, *, query: bool) -> None:
        log.warning("queuecheck proxy refused %s", why)
        self.refused.append(why)
        wire = _wire(
            400,
            {"Content-Type": "application/x-amz-json-1.0"},
            json.dumps(
                {"__type": "com.amazonaws#QueuecheckRefused", "message": f"refused: {why}"}
            ).encode(),
        )
        status, headers, body = query_error(wire) if query else wire
        handler.close_connection = True
        Proxy._answer(handler, status, headers, body.encode())


def _refused_by_dynamodb(request: ProxyRequest) -> WireResponse | None:
    """DynamoDB's 400 for a request whose AttributeValues it would refuse, or None."""
    if request.service != "dynamodb":
        return None
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None  # the backend says what DynamoDB would; not an AttributeValue matter
    rejection = attribute_values.validate(body) if isinstance(body, dict) else None
    if rejection is None:
        return None
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "x-amzn-ErrorType": rejection.code,
        "x-amzn-RequestId": "00000000-0000-0000-0000-000000000000",
    }
    return _wire(400, headers, json.dumps(rejection.body()).encode())


class _Refused(Exception):
    """A request the proxy does not forward (and answers with an error)."""

    def __init__(self, why: str, *, query: bool = False) -> None:
        super().__init__(why)
        self.query = query
