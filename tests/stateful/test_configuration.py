"""Configuration, as DESIGN.md section 2 has it: from the environment; a missing or invalid
setting is a SYSTEM_ERROR answer (500, API Gateway's request id), never a traceback, with
nothing written or sent; ``MESSAGE_TTL_SECONDS`` sets each record's ``ttl``. (The log line
DESIGN.md also asks for is not checked here.)

The state machine runs the handler configured with the defaults only, so mutation testing
found these untested (benchmarks/mutation.md): a handler that ignored the setting, took 0
for a valid one, or answered a missing table name without the request id passed. Each case
runs the handler as a cold start with that environment: its module imported afresh, so a
handler that reads its settings at import is judged on what it does then.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import pytest

from model.core.events import Response, get_event, submit_event
from model.harness.driver import HandlerImportRaised, LambdaContext, load_handler

MESSAGE = {"type": "order.created", "payload": {"orderId": "o-1", "amount": 12}}
MISSING = object()  # an environment variable that is not set
DEFAULT_TTL_S = 604_800  # DESIGN.md section 2


def _cold_start(spec: str, monkeypatch: pytest.MonkeyPatch, env: dict[str, Any]) -> Any:
    """The handler of ``spec`` imported afresh under ``env``; the import is undone after."""
    for name, value in env.items():
        if value is MISSING:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    module_name = spec.partition(":")[0]
    parent, _, child = module_name.rpartition(".")
    if parent in sys.modules and module_name in sys.modules:  # the package's attribute too
        monkeypatch.setattr(sys.modules[parent], child, sys.modules[module_name])
    monkeypatch.delitem(sys.modules, module_name, raising=False)  # restored at the end
    return load_handler(spec)


def misconfiguration_problems(
    spec: str, monkeypatch: pytest.MonkeyPatch, sandbox: Any, env: dict[str, Any]
) -> list[str]:
    """What the handler does wrong when started with ``env``: each a sentence."""
    try:
        handler = _cold_start(spec, monkeypatch, env)
    except HandlerImportRaised as exc:
        return [f"a traceback at cold start, not a SYSTEM_ERROR answer: {exc}"]
    problems = []
    for event in (
        submit_event(MESSAGE, request_id="req-config"),
        get_event("m-1", request_id="req-config"),
    ):
        method = event["httpMethod"]
        try:
            answer = Response.parse(handler(event, LambdaContext("lambda-req-config")))
        except Exception as exc:  # the handler's own exception, or a malformed answer
            problems.append(f"{method}: raised {type(exc).__name__}: {exc}")
            continue
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if (
            answer.status != 500
            or not isinstance(error, dict)
            or error.get("code") != "SYSTEM_ERROR"
        ):
            problems.append(
                f"{method}: answered {answer.status} {answer.raw_body[:200]}, not 500 SYSTEM_ERROR"
            )
        elif error.get("requestId") != "req-config":
            problems.append(
                f"{method}: the SYSTEM_ERROR quotes requestId {error.get('requestId')!r}, not "
                "API Gateway's 'req-config'"
            )
    if sandbox.all_items() or sandbox.messages():
        problems.append("a record was written or a message sent without a configuration")
    return problems


def ttl_problems(
    spec: str, monkeypatch: pytest.MonkeyPatch, sandbox: Any, setting: Any
) -> list[str]:
    """Whether a new record's ``ttl`` is its creation time plus the setting, in seconds
    (``MISSING``: unset, so the default, 604800)."""
    handler = _cold_start(spec, monkeypatch, {"MESSAGE_TTL_SECONDS": setting})
    named = "MESSAGE_TTL_SECONDS unset" if setting is MISSING else f"MESSAGE_TTL_SECONDS={setting}"
    seconds = DEFAULT_TTL_S if setting is MISSING else int(setting)
    answer = Response.parse(
        handler(submit_event(MESSAGE, request_id="req-ttl"), LambdaContext("lambda-req-ttl"))
    )
    if answer.status != 202:
        return [f"{named}: answered {answer.status} {answer.raw_body[:200]}"]
    (item,) = sandbox.all_items()
    created = datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
    expected = int(created.timestamp()) + seconds
    if int(item["ttl"]) != expected:
        got = item["ttl"]
        return [f"{named}: ttl {got}, not createdAt + {seconds} = {expected}"]
    return []


BAD_SETTINGS = {
    "no MESSAGES_TABLE": {"MESSAGES_TABLE": MISSING},
    "no MESSAGES_QUEUE_URL": {"MESSAGES_QUEUE_URL": MISSING},
    "MESSAGE_TTL_SECONDS=0": {"MESSAGE_TTL_SECONDS": "0"},
    "MESSAGE_TTL_SECONDS=-60": {"MESSAGE_TTL_SECONDS": "-60"},
    "MESSAGE_TTL_SECONDS=a week": {"MESSAGE_TTL_SECONDS": "a week"},
}


@pytest.fixture
def contract_only(pipeline):
    if pipeline is not None:
        pytest.skip("the contract's settings: a pipeline file names its own ([env])")


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_a_missing_or_invalid_setting_is_a_system_error(
    case, handler_spec, sandbox, monkeypatch, contract_only
):
    assert [] == misconfiguration_problems(handler_spec, monkeypatch, sandbox, BAD_SETTINGS[case])


@pytest.mark.parametrize(
    "setting", ["1", "3600", "604800", MISSING], ids=["1", "3600", "604800", "unset"]
)
def test_a_records_ttl_is_its_creation_plus_the_setting(
    setting, handler_spec, sandbox, monkeypatch, contract_only
):
    """Unset, the setting is DESIGN.md's default: a week."""
    assert [] == ttl_problems(handler_spec, monkeypatch, sandbox, setting)


@pytest.mark.parametrize(
    ("spec", "case", "problem"),
    [
        (
            "stateful.reads_config_at_import:handler",
            "no MESSAGES_TABLE",
            "a traceback at cold start, not a SYSTEM_ERROR answer: handler "
            "'stateful.reads_config_at_import:handler': importing "
            "stateful.reads_config_at_import raised KeyError: 'MESSAGES_TABLE'",
        ),
        (
            "stateful.misconfigured:system_error_without_request_id",
            "no MESSAGES_QUEUE_URL",
            "POST: the SYSTEM_ERROR quotes requestId None, not API Gateway's 'req-config'",
        ),
        (
            "stateful.misconfigured:zero_ttl_taken_as_unset",
            "MESSAGE_TTL_SECONDS=0",
            "POST: answered 202",
        ),
    ],
)
def test_the_configuration_check_fails_on_a_handler_that_breaks_it(
    spec, case, problem, sandbox, monkeypatch
):
    """Each broken handler is named for its bug, and only the problem it is for is found
    first."""
    problems = misconfiguration_problems(spec, monkeypatch, sandbox, BAD_SETTINGS[case])

    assert problems, f"{spec} passed the check for {case}"
    assert problems[0].startswith(problem), problems


def test_the_ttl_check_fails_on_a_handler_that_ignores_the_setting(sandbox, monkeypatch):
    problems = ttl_problems(
        "stateful.misconfigured:ttl_setting_ignored", monkeypatch, sandbox, "3600"
    )

    (problem,) = problems
    assert problem.startswith("MESSAGE_TTL_SECONDS=3600: ttl "), problem
    assert ", not createdAt + 3600 = " in problem
