"""A handler in another process, called by the state machine as it calls a Python one.

``OutOfProcess`` is a callable ``(event, context)`` over a few runners (``process.Runner``),
one per proxy lane (``proxy.Proxy``): an invocation takes a free lane, so a competing
invocation inside a race, or two invocations interleaved, run in two processes at once, each
reaching AWS through its own lane. What the runner reports becomes what a Python handler would
have done: a returned value, an exception (``HandlerError``, keeping the handler's own error
type), a crash (``InvocationCrashed``), or no answer in time (``NoAnswerError``). The handler's
output is printed, so the machine's log capture reads it as any handler's logs.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from model.harness.faults import Injector, InvocationCrashed
from model.harness.runtimes import node
from model.harness.runtimes.process import (
    Answered,
    Context,
    Crashed,
    NoAnswer,
    Raised,
    Runner,
    RunnerError,
)
from model.harness.runtimes.proxy import Proxy
from model.harness.wire import Recorder

LANES = 2
"""One for the invocation, one for a competing invocation or the second of an interleaving."""


class HandlerError(Exception):
    """The handler in the other process threw (or rejected, or called back with an error)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NoAnswerError(Exception):
    """The handler gave no answer within its time: the process was killed, as Lambda does."""


class OutOfProcess:
    """The handler of a ``node`` or ``command`` runtime, behind the proxy's lanes."""

    def __init__(
        self,
        command: Sequence[str],
        cwd: str,
        environment: Callable[[int], Mapping[str, str]],
        proxy: Proxy,
        *,
        timeout_s: float,
    ) -> None:
        self.command, self.cwd, self.timeout_s = tuple(command), cwd, timeout_s
        self.proxy = proxy
        self.runners = [Runner() for _ in range(LANES)]
        self._environment = environment
        self._free = list(range(LANES))
        self._who: dict[int, int | None] = {}
        self._lock = threading.Lock()
        self.scheduler: Any = None
        """The interleaving scheduler in force (set by the harness), whose turns the proxy's
        threads must take on behalf of the invocation whose lane they serve."""
        proxy.on_crash = lambda lane, why: self.runners[lane].kill(why)
        proxy.on_request = self._act_for

    def start(self) -> None:
        """Start every lane's runner; ``RunnerError`` (one line) if the handler cannot load."""
        for lane, runner in enumerate(self.runners):
            runner.start(self.command, self._environment(lane), self.cwd)

    def fresh(self) -> None:
        """Fresh module state and SDK clients for the next example (a process never invoked)."""
        for runner in self.runners:
            runner.reset()

    def stop(self) -> None:
        """End every runner's processes and close the proxy's ports (also run at exit)."""
        for runner in self.runners:
            runner.stop()
        self.proxy.stop()

    def _act_for(self, lane: int) -> None:
        scheduler = self.scheduler
        if scheduler is not None:
            scheduler.act_as(self._who.get(lane))

    def __call__(self, event: Any, context: Any) -> Any:
        with self._lock:
            if not self._free:
                raise RuntimeError("every lane of the out-of-process handler is busy")
            lane = self._free.pop(0)
            scheduler = self.scheduler
            self._who[lane] = scheduler.identity() if scheduler is not None else None
        try:
            request_id = getattr(context, "aws_request_id", "queuecheck")
            reply = self.runners[lane].invoke(
                event, Context(aws_request_id=request_id, timeout_s=self.timeout_s)
            )
        finally:
            with self._lock:
                self._free.append(lane)
                self._free.sort()
        for line in reply.logs:
            print(line, file=sys.stdout)
        if isinstance(reply, Answered):
            return reply.value
        if isinstance(reply, Raised):
            raise HandlerError(reply.error_type, reply.error_message)
        if isinstance(reply, Crashed):
            raise InvocationCrashed(f"the handler's process died: {reply.why}")
        assert isinstance(reply, NoAnswer)
        raise NoAnswerError(f"no answer within {reply.after_s:g} s; its process was killed")


def start(
    pipeline: Any,
    handler_spec: str | None,
    sandbox: Any,
    *,
    timeout_s: float,
) -> OutOfProcess:
    """The handler of a pipeline file's ``node`` or ``command`` runtime, started behind a new
    proxy in front of the sandbox's HTTP backend. Stopped (processes, ports) at exit."""
    servers = sandbox.servers
    if servers is None:
        raise RunnerError(
            f"the {pipeline.runtime} runtime reaches AWS over HTTP: use --backend moto-server "
            "or dynalite (moto-server is the default for out-of-process handlers)"
        )
    injector: Injector = sandbox.injector
    recorder: Recorder = sandbox.recorder
    upstream = {"dynamodb": servers.endpoints.dynamodb, "sqs": servers.endpoints.sqs}
    proxy = Proxy(upstream, injector, recorder=recorder).start(lanes=LANES)
    folder = str(pipeline.folder)
    if pipeline.runtime == "node":
        command = node.command(handler_spec or pipeline.handler or "", folder)
    else:
        command = list(pipeline.command)

    def environment(lane: int) -> dict[str, str]:
        layout = sandbox.layout
        return {
            **proxy.environment(lane),
            **node.ENVIRONMENT,
            layout.table_env: sandbox.table_name,
            layout.queue_env: proxy.queue_url(sandbox.queue_url, lane),
            **pipeline.env,
        }

    handler = OutOfProcess(command, folder, environment, proxy, timeout_s=timeout_s)
    atexit.register(handler.stop)
    try:
        handler.start()
    except BaseException:
        handler.stop()
        raise
    return handler
