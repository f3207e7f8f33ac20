"""The driver: loading a handler by name, invoking it inside the sandbox, reading its answer."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from model.core.events import Response
from model.core.plans import Fault, FaultKind
from model.harness.driver import (
    Crashed,
    Driver,
    HandlerImportRaised,
    HandlerLoadError,
    LambdaContext,
    load_handler,
)
from model.harness.sandbox import Sandbox

HANDLERS = '''
import json
import os

NOT_CALLABLE = 42


def echo(event, context):
    """Answers with what it was given: the request id it saw and the table it was told."""
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({
            "requestId": context.aws_request_id,
            "table": os.environ.get("MESSAGES_TABLE"),
            "queue": os.environ.get("MESSAGES_QUEUE_URL"),
        }),
    }
'''


@pytest.fixture
def handlers_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module of handlers on ``sys.path`` (as a user's ``PYTHONPATH`` would put it)."""
    (tmp_path / "queuecheck_test_handlers.py").write_text(HANDLERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "queuecheck_test_handlers", raising=False)
    return "queuecheck_test_handlers"


# -- load_handler ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["reference.handler", "reference.handler:", ":lambda_handler", ""])
def test_a_spec_without_module_and_function_is_refused(spec: str) -> None:
    """A spec that is not ``module:function`` is refused with the expected form and an example."""
    with pytest.raises(HandlerLoadError) as raised:
        load_handler(spec)

    expected = f"handler {spec!r}: expected module:function, e.g. reference.handler:lambda_handler"
    assert expected == str(raised.value)


def test_a_missing_module_names_the_module_and_pythonpath() -> None:
    """A module that cannot be imported is named, with the hint to check PYTHONPATH."""
    with pytest.raises(HandlerLoadError) as raised:
        load_handler("queuecheck_no_such_module:handler")

    message = str(raised.value)
    assert (True, True, True) == (
        message.startswith("handler 'queuecheck_no_such_module:handler': cannot import"),
        "'queuecheck_no_such_module'" in message,
        "is its folder on PYTHONPATH?" in message,
    )
    assert isinstance(raised.value.__cause__, ImportError)


def test_a_missing_dependency_is_named_as_what_to_install(tmp_path, monkeypatch) -> None:
    """The handler's module is found but imports something not installed: say that, not
    "is its folder on PYTHONPATH?" (which it is)."""
    (tmp_path / "needs_more.py").write_text("import queuecheck_absent_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(HandlerLoadError) as raised:
        load_handler("needs_more:handler")
    assert (
        "handler 'needs_more:handler': importing needs_more needs "
        "'queuecheck_absent_dependency', which is not installed here: install what the "
        "handler needs beside queuecheck"
    ) == str(raised.value)


def test_a_module_that_fails_while_loading_is_one_line(tmp_path, monkeypatch) -> None:
    """Settings read at import that are not set: the exception, named, in one line."""
    (tmp_path / "reads_at_import.py").write_text(
        "import os\nTABLE = os.environ['QUEUECHECK_NEVER_SET']\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(HandlerLoadError) as raised:
        load_handler("reads_at_import:handler")
    assert str(raised.value).startswith(
        "handler 'reads_at_import:handler': importing reads_at_import raised KeyError: "
        "'QUEUECHECK_NEVER_SET'"
    )
    assert "\n" not in str(raised.value)
    assert str(raised.value).endswith("(a pipeline file's [env] sets variables before the import)")
    assert isinstance(raised.value, HandlerImportRaised)


def test_a_module_that_raises_something_else_gets_no_env_hint(tmp_path, monkeypatch) -> None:
    """The [env] hint is for a setting read at import (KeyError), not for any exception."""
    (tmp_path / "raises_at_import.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(HandlerImportRaised) as raised:
        load_handler("raises_at_import:handler")
    assert (
        "handler 'raises_at_import:handler': importing raises_at_import raised RuntimeError: boom"
    ) == str(raised.value)


@pytest.mark.parametrize("name", ["missing", "NOT_CALLABLE"])
def test_a_missing_or_uncallable_attribute_is_named(handlers_module: str, name: str) -> None:
    """A module without that function, or with a non-callable of that name, is refused naming
    the module and the function."""
    spec = f"{handlers_module}:{name}"

    with pytest.raises(HandlerLoadError) as raised:
        load_handler(spec)

    expected = f"handler {spec!r}: {handlers_module} has no callable {name!r}"
    assert expected == str(raised.value)


def test_a_valid_spec_loads_the_function(handlers_module: str) -> None:
    """``module:function`` imports the module from sys.path and returns the function."""
    handler = load_handler(f"{handlers_module}:echo")

    assert ("echo", handlers_module) == (handler.__name__, handler.__module__)


# -- Response.parse -------------------------------------------------------------------------------

NOT_PROXY = [
    None,
    "OK",
    ["statusCode", 200],
    {"body": "{}"},
    {"statusCode": "200", "body": "{}"},
    {"statusCode": None},
]


@pytest.mark.parametrize("answer", NOT_PROXY)
def test_parse_rejects_what_is_not_a_proxy_response(answer: Any) -> None:
    """An answer that is not a dict with an int ``statusCode`` is a ValueError that shows the
    answer and says what is missing."""
    with pytest.raises(ValueError, match="not a proxy response with statusCode") as raised:
        Response.parse(answer)

    assert repr(answer) in str(raised.value)


def test_parse_rejects_a_body_that_is_not_json() -> None:
    """A body that is not JSON is a ValueError quoting the body."""
    with pytest.raises(ValueError, match="not JSON") as raised:
        Response.parse({"statusCode": 200, "body": "<html>oops</html>"})

    assert "'<html>oops</html>'" in str(raised.value)


def test_parse_reads_status_headers_and_body() -> None:
    """A proxy answer is read as status, lower-cased headers, the decoded JSON body and the raw
    text; an error body's code is exposed."""
    body = '{"error": {"code": "NOT_FOUND", "message": "no such message"}}'

    response = Response.parse(
        {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "body": body}
    )

    expected = Response(
        404,
        {"content-type": "application/json"},
        {"error": {"code": "NOT_FOUND", "message": "no such message"}},
        body,
    )
    assert expected == response
    assert "NOT_FOUND" == response.error_code


def test_parse_decodes_base64_bodies() -> None:
    """``isBase64Encoded`` bodies are decoded before JSON parsing."""
    raw = json.dumps({"messageId": "m-1", "status": "QUEUED"})
    answer = {
        "statusCode": 202,
        "isBase64Encoded": True,
        "body": base64.b64encode(raw.encode()).decode(),
    }

    response = Response.parse(answer)

    assert ({"messageId": "m-1", "status": "QUEUED"}, raw, None) == (
        response.body,
        response.raw_body,
        response.error_code,
    )


def test_parse_accepts_an_empty_body() -> None:
    """A proxy answer without a body parses to a None body."""
    assert Response(204, {}, None, "") == Response.parse({"statusCode": 204})


# -- Driver.invoke --------------------------------------------------------------------------------


def test_invoke_gives_the_handler_its_environment_and_request_id(
    sandbox: Sandbox, handlers_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver exports the sandbox's table and queue to the handler, and gives the context an
    aws_request_id of Lambda's own, derived from but not equal to API Gateway's requestId (in
    AWS the two differ, and a handler must quote the caller API Gateway's)."""
    monkeypatch.delenv("MESSAGES_TABLE")
    driver = Driver(load_handler(f"{handlers_module}:echo"), sandbox)

    response = driver.submit({"type": "t", "payload": {}}, request_id="req-42")

    expected = {
        "requestId": "lambda-req-42",
        "table": sandbox.table_name,
        "queue": sandbox.queue_url,
    }
    assert (200, expected) == (response.status, response.body)
    assert sandbox.table_name == os.environ["MESSAGES_TABLE"]


def test_invoke_numbers_requests_without_an_id(sandbox: Sandbox, handlers_module: str) -> None:
    """Requests the driver makes up get ids req-1, req-2, ... in order (Lambda's: lambda-req-N)."""
    driver = Driver(load_handler(f"{handlers_module}:echo"), sandbox)

    answers = [driver.submit({"type": "t", "payload": {}}), driver.get("m-1")]

    assert ["lambda-req-1", "lambda-req-2"] == [answer.body["requestId"] for answer in answers]


def test_invoke_rejects_a_handler_answer_that_is_not_a_proxy_response(sandbox: Sandbox) -> None:
    """A handler returning something other than a proxy response surfaces as a ValueError."""
    driver = Driver(lambda event, context: "OK", sandbox)

    with pytest.raises(ValueError, match="not a proxy response"):
        driver.get("m-1")


def test_a_crash_at_a_call_is_answered_as_crashed(sandbox: Sandbox, calls: Any) -> None:
    """A crash injected at one of the handler's AWS calls ends the invocation even through the
    handler's ``except Exception``; the driver returns Crashed naming the call, nothing written."""

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            calls.put_item("m-1")
        except Exception:
            return {"statusCode": 503, "body": "{}"}
        return {"statusCode": 202, "body": "{}"}

    sandbox.injector.plan(Fault("dynamodb.PutItem", FaultKind.CRASH))

    answer = Driver(handler, sandbox).submit({"type": "t", "payload": {}})

    assert Crashed("invocation crashed at dynamodb.PutItem") == answer
    assert {} == sandbox.items()


def test_parse_refuses_keys_api_gateway_does_not_know() -> None:
    """A misspelt ``isBase64Encoded`` makes API Gateway answer 502 (a malformed proxy
    response): the harness treats it as no answer, never as the answer it looks like."""
    with pytest.raises(ValueError, match=r"unknown keys \['isBase64encoded'\]"):
        Response.parse({"statusCode": 200, "body": "{}", "isBase64encoded": False})
    assert 200 == Response.parse({"statusCode": 200, "multiValueHeaders": {}}).status
