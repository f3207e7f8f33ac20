"""Invokes a handler inside the sandbox and reads its answer: the harness's one way in."""

from __future__ import annotations

import importlib
import itertools
import os
from collections.abc import Callable
from typing import Any

import attrs

from model.core.events import Response, get_event, submit_event
from model.harness.faults import InvocationCrashed
from model.harness.sandbox import Sandbox

Handler = Callable[[Any, Any], Any]
DEFAULT_HANDLER = "reference.handler:lambda_handler"


class HandlerLoadError(Exception):
    """``--handler`` names something that cannot be imported or called."""


class HandlerImportRaised(HandlerLoadError):
    """The handler's module was found, and its own code raised while loading: a bug of the
    handler (or a setting it lacks), where the other load errors are mistakes of the command."""


def load_handler(spec: str) -> Handler:
    """Import ``module:function`` (from PYTHONPATH). Call only after the sandbox has started."""
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise HandlerLoadError(
            f"handler {spec!r}: expected module:function, e.g. {DEFAULT_HANDLER}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        if (
            isinstance(exc, ModuleNotFoundError)
            and missing
            and not (module_name == missing or module_name.startswith(missing + "."))
        ):  # the handler's module was found; something it imports was not
            raise HandlerLoadError(
                f"handler {spec!r}: importing {module_name} needs {missing!r}, which is not "
                "installed here: install what the handler needs beside queuecheck"
            ) from exc
        raise HandlerLoadError(
            f"handler {spec!r}: cannot import {module_name!r} ({exc}); is its folder on PYTHONPATH?"
        ) from exc
    except (Exception, SystemExit) as exc:  # the module's own code failed while loading
        hint = (
            " (a pipeline file's [env] sets variables before the import)"
            if isinstance(exc, KeyError)
            else ""
        )
        raise HandlerImportRaised(
            f"handler {spec!r}: importing {module_name} raised {type(exc).__name__}: "
            f"{str(exc)[:200]}{hint}"
        ) from exc
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise HandlerLoadError(f"handler {spec!r}: {module_name} has no callable {function_name!r}")
    return handler  # type: ignore[no-any-return]


@attrs.frozen
class LambdaContext:
    """The parts of Lambda's context object handlers commonly read."""

    aws_request_id: str
    function_name: str = "queuecheck-intake"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:queuecheck-intake"

    def get_remaining_time_in_millis(self) -> int:
        return 20_000


@attrs.frozen
class Crashed:
    """The invocation died before answering (an injected crash: a Lambda timeout)."""

    at: str


@attrs.define
class Driver:
    handler: Handler
    sandbox: Sandbox
    _ids: itertools.count[int] = attrs.Factory(lambda: itertools.count(1))

    def next_request_id(self) -> str:
        return f"req-{next(self._ids)}"

    def invoke(self, event: dict[str, Any]) -> Response | Crashed:
        """Run the handler once; a crash injected at one of its calls is an answer too."""
        os.environ.update(self.sandbox.environment)
        request_id = event.get("requestContext", {}).get("requestId") or self.next_request_id()
        try:
            # Lambda's own id differs from API Gateway's, as in AWS: a handler that quotes the
            # wrong one to the caller shows.
            answer = self.handler(event, LambdaContext(f"lambda-{request_id}"))
        except InvocationCrashed as crash:
            return Crashed(str(crash))
        return Response.parse(answer)

    def submit(
        self,
        message: dict[str, Any] | str | bytes,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> Response | Crashed:
        options.setdefault("request_id", self.next_request_id())
        return self.invoke(submit_event(message, headers, **options))

    def get(self, message_id: str) -> Response | Crashed:
        return self.invoke(get_event(message_id, request_id=self.next_request_id()))
