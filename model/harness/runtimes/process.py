"""A handler in a process of its own, driven over the runner protocol (``docs/runners.md``).

The runner is any executable that speaks protocol 1: it reads one JSON object per line on
fd 3 and writes one per line on fd 4, so whatever the handler prints on stdout and stderr is
only ever its log, never the protocol. ``Runner`` starts it (in a process group of its own),
invokes it, reads its logs per invocation, kills it (an injected crash: the next invocation
starts a fresh process, a cold start as on Lambda), and gives every example a fresh process.

Nothing is left behind: every process's group is killed at interpreter exit, and a runner
whose fd 3 closes (the harness died, however it died) exits by itself.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import select
import selectors
import shutil
import signal
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

PROTOCOL = 1
START_TIMEOUT_S = 30.0
"""How long a runner may take to load the handler and say ``ready``."""
STOP_GRACE_S = 2.0
"""How long a runner may take to exit once fd 3 is closed, before its group is killed."""
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ")
"""The only variables a runner inherits from the harness: it needs PATH to find its own
interpreter; everything else it sees is the handler's (no credentials, no proxies)."""

# The child runs in ``cwd`` (posix_spawn has no chdir of its own before Python 3.13) and then
# becomes the runner itself (exec: same pid, so the runner leads its process group).
_CD_THEN_EXEC = 'cd -- "$1" || exit 126; shift; exec "$@"'


class RunnerError(Exception):
    """The runner cannot be used (it did not start, or broke the protocol); one line."""


@attrs.frozen
class Command:
    """How to start a runner: the executable and its arguments, the handler's environment
    (the harness adds ``QUEUECHECK_PROTOCOL``), and the folder it runs in."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    cwd: str = "."


@attrs.frozen
class Context:
    """What the runner builds the handler's Lambda context from."""

    aws_request_id: str = attrs.Factory(lambda: str(uuid.uuid4()))
    function_name: str = "queuecheck-intake"
    function_version: str = "$LATEST"
    memory_limit_mb: int = 128
    timeout_s: float = 30.0
    """The Lambda timeout: the deadline the handler sees, and how long the harness waits."""
    region: str = "us-east-1"
    account: str = "123456789012"

    def wire(self, now_s: float) -> dict[str, Any]:
        return {
            "awsRequestId": self.aws_request_id,
            "functionName": self.function_name,
            "functionVersion": self.function_version,
            "invokedFunctionArn": (
                f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"
            ),
            "memoryLimitInMB": self.memory_limit_mb,
            "logGroupName": f"/aws/lambda/{self.function_name}",
            "logStreamName": f"queuecheck/[{self.function_version}]runner",
            "deadlineMs": int((now_s + self.timeout_s) * 1000),
        }


@attrs.frozen
class Answered:
    """The handler returned ``value`` (JSON)."""

    value: Any
    logs: tuple[str, ...] = attrs.field(default=(), eq=False)
    skipped_delay_ms: float = attrs.field(default=0.0, eq=False)
    """Retry delays the runner did not sleep (virtual time)."""


@attrs.frozen
class Raised:
    """The handler threw, rejected, or called back with an error."""

    error_type: str
    error_message: str
    logs: tuple[str, ...] = attrs.field(default=(), eq=False)
    skipped_delay_ms: float = attrs.field(default=0.0, eq=False)


@attrs.frozen
class Crashed:
    """The runner's process died during the invocation: no answer at all."""

    why: str
    logs: tuple[str, ...] = attrs.field(default=(), eq=False)


@attrs.frozen
class NoAnswer:
    """No answer within the Lambda timeout; the process was killed, as Lambda would."""

    after_s: float
    logs: tuple[str, ...] = attrs.field(default=(), eq=False)


Reply = Answered | Raised | Crashed | NoAnswer


class _Ended(Exception):
    """fd 4 reached its end: the runner exited (or closed it)."""


class _Silent(Exception):
    """Nothing came on fd 4 before the deadline."""


_LIVE: weakref.WeakSet[_Process] = weakref.WeakSet()


@atexit.register
def _kill_every_runner() -> None:
    for process in list(_LIVE):
        process.kill("the harness exited")
        process.close()


def _high(fd: int) -> int:
    """``fd`` moved above 9, so the child's fds 3 and 4 cannot collide with it."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


def _check_executable(argv: Sequence[str], cwd: str) -> None:
    if not argv:
        raise RunnerError("the runner command is empty")
    program = argv[0]
    if os.sep in program:
        path = os.path.join(cwd, program)
        if not os.path.exists(path):
            raise RunnerError(f"runner command {program!r} does not exist (in {cwd})")
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise RunnerError(f"runner command {program!r} is not executable")
    elif shutil.which(program) is None:
        raise RunnerError(f"runner command {program!r} was not found on PATH")


class _Process:
    """One runner process: its process group, its pipes, and what it wrote so far."""

    def __init__(self, command: Command) -> None:
        _check_executable(command.argv, command.cwd)
        if not os.path.isdir(command.cwd):
            raise RunnerError(f"the runner's folder {command.cwd} does not exist")
        environment = {
            **{name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ},
            **command.env,
            "QUEUECHECK_PROTOCOL": str(PROTOCOL),
        }
        to_child, self.to_runner = os.pipe()
        self.from_runner, from_child = os.pipe()
        stdout, out_child = os.pipe()
        stderr, err_child = os.pipe()
        # Every child end moves above fd 9 first, so no dup2 below overwrites another.
        child_ends = [_high(fd) for fd in (out_child, err_child, to_child, from_child)]
        try:
            self.pid = os.posix_spawn(
                "/bin/sh",
                ["/bin/sh", "-c", _CD_THEN_EXEC, "queuecheck-runner", command.cwd, *command.argv],
                environment,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    *((os.POSIX_SPAWN_DUP2, fd, at) for at, fd in enumerate(child_ends, 1)),
                ],
                setsid=True,  # its own process group: one signal reaches all it started
                setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),  # what Python ignores, restored
            )
        except OSError as exc:
            for fd in (self.to_runner, self.from_runner, stdout, stderr):
                os.close(fd)
            raise RunnerError(f"cannot start runner {command.argv[0]!r}: {exc}") from None
        finally:
            for fd in child_ends:
                os.close(fd)
        _LIVE.add(self)
        self.returncode: int | None = None
        self.reaped = False
        self.stderr_fd = stderr
        self.output = {stdout: "", stderr: ""}
        self.selector = selectors.DefaultSelector()
        for fd in (self.from_runner, *self.output):
            os.set_blocking(fd, False)
            self.selector.register(fd, selectors.EVENT_READ)
        self.protocol_text = b""
        self.messages: deque[bytes] = deque()
        self.lines: list[str] = []
        self.last_error_line = ""
        self.ended = False
        self.killed: str | None = None
        self.runtime = ""
        self.invoked = False
        self._lock = threading.Lock()

    # -- reading --

    def _read(self, fd: int) -> bool:
        """Read what ``fd`` holds now; False once it has nothing more (or reached its end)."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(fd)
            if fd == self.from_runner:
                self.ended = True
            else:
                self._flush(fd)
            return False
        if fd == self.from_runner:
            self.protocol_text += data
            *messages, self.protocol_text = self.protocol_text.split(b"\n")
            self.messages.extend(line for line in messages if line.strip())
            return True
        text = self.output[fd] + data.decode("utf-8", errors="replace")
        *lines, self.output[fd] = text.split("\n")
        self._take_lines(fd, lines)
        return True

    def _take_lines(self, fd: int, lines: list[str]) -> None:
        self.lines.extend(line.rstrip("\r") for line in lines)
        if fd == self.stderr_fd:
            for line in lines:
                if line.strip():
                    self.last_error_line = line.strip()

    def _flush(self, fd: int) -> None:
        if self.output[fd]:
            self._take_lines(fd, [self.output[fd]])
            self.output[fd] = ""

    def _open(self, fd: int) -> bool:
        registered = self.selector.get_map()  # None once closed
        return registered is not None and fd in registered

    def drain(self) -> list[str]:
        """Take every output line written so far. A runner flushes stdout and stderr before it
        answers, so after an answer this is all the invocation wrote."""
        for fd in self.output:
            while self._open(fd) and self._read(fd):
                pass
            self._flush(fd)
        lines, self.lines = self.lines, []
        return lines

    def message(self, timeout: float) -> dict[str, Any]:
        """The next protocol message, reading output lines on the way."""
        deadline = time.monotonic() + timeout
        while not self.messages:
            if self.ended:
                raise _Ended
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Silent
            for key, _ in self.selector.select(left):
                self._read(int(key.fd))
        line = self.messages.popleft()
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            shown = line.decode("utf-8", errors="replace")[:80]
            raise RunnerError(
                f"the runner wrote something other than queuecheck's protocol {PROTOCOL} on "
                f"fd 4: {shown!r}"
            )
        return message

    def send(self, message: dict[str, Any]) -> None:
        if self.to_runner < 0:
            raise BrokenPipeError
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        while data:
            data = data[os.write(self.to_runner, data) :]

    # -- ending --

    def status(self) -> int | None:
        """The exit status once the process has ended, else None. It is not reaped yet: its
        pid stays reserved, so killing its group later can reach no stranger."""
        with self._lock:
            if self.returncode is None and not self.reaped:
                ended = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                if ended is not None:
                    exited = ended.si_code == os.CLD_EXITED
                    self.returncode = ended.si_status if exited else -ended.si_status
            return self.returncode

    def wait(self, timeout: float) -> int | None:
        """The exit status, waiting at most ``timeout`` for the runner to exit."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(_Silent, _Ended, RunnerError, OSError, KeyError, ValueError):
            while True:  # fd 4 ends first; anything it still says is of no use now
                self.message(deadline - time.monotonic())
        self.drain()
        if self.status() is None:
            left = max(0.0, deadline - time.monotonic())
            try:
                exited = os.pidfd_open(self.pid)
            except (OSError, AttributeError):  # gone already, or no pidfds here (not Linux)
                return self.status()
            try:
                select.select([exited], [], [], left)
            finally:
                os.close(exited)
        return self.status()

    def kill(self, why: str) -> None:
        """Kill the whole process group at once (safe from any thread)."""
        with self._lock:
            if self.reaped:
                return  # its pid may belong to someone else by now
            self.killed = self.killed or why
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def close(self, grace_s: float = 0.0) -> None:
        """End the runner: EOF on fd 3, ``grace_s`` to exit, then its group is killed; every
        pipe is closed and the process reaped."""
        if self.to_runner >= 0:
            os.close(self.to_runner)
            self.to_runner = -1
        if grace_s and self.status() is None:
            self.wait(grace_s)
        with self._lock:
            if not self.reaped:  # even a runner that exited may have left children behind
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, signal.SIGKILL)
                _, wait_status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(wait_status)
                self.reaped = True
        self.selector.close()
        for fd in (self.from_runner, *self.output):
            with contextlib.suppress(OSError):
                os.close(fd)
        _LIVE.discard(self)

    def ending(self) -> str:
        """Why the process ended, in words: the harness's reason when it killed it, else the
        exit status with the runner's last stderr line."""
        code = self.wait(STOP_GRACE_S)
        if self.killed:
            return self.killed
        if code is None:
            why = "the runner closed fd 4"
        elif code < 0:
            why = f"the runner was killed by signal {-code}"
        else:
            why = f"the runner exited with status {code}"
        return f"{why}: {self.last_error_line}" if self.last_error_line else why


@attrs.define
class Runner:
    """A handler behind the runner protocol: start it, invoke it, read its logs, crash it,
    give it fresh state.

    ``spare``: keep a second process started and loaded, never invoked, so that ``reset`` and
    the restart after a crash swap it in instead of waiting for a cold start
    (docs/runners.md, "Fresh state")."""

    start_timeout_s: float = START_TIMEOUT_S
    spare: bool = True
    logs: list[str] = attrs.Factory(list)
    """The output lines of the last invocation."""
    startup_logs: list[str] = attrs.Factory(list)
    """What processes wrote while loading the handler, before their first invocation."""
    runtime: str = ""
    """What the runner said it is (``node v20.11.1``)."""
    history: list[int] = attrs.Factory(list)
    """The pid (= process group) of every process started so far, each a cold start."""
    _command: Command | None = None
    _current: _Process | None = None
    _standby: _Process | None = None

    @property
    def pid(self) -> int | None:
        """The current runner process's pid (also its process group), if one runs."""
        return self._current.pid if self._current else None

    @property
    def pids(self) -> tuple[int, ...]:
        """Every runner process of this runner (the current one and the spare)."""
        return tuple(p.pid for p in (self._current, self._standby) if p is not None)

    def start(
        self, command: Sequence[str], env: Mapping[str, str] | None = None, cwd: str = "."
    ) -> None:
        """Start the runner and wait until it has loaded the handler; ``RunnerError`` if it
        cannot (one line, with the runner's last stderr line)."""
        self.stop()
        self._command = Command(tuple(command), dict(env or {}), cwd)
        self._current = self._ready(self._spawn())
        if self.spare:
            self._standby = self._spawn()

    def invoke(self, event: Any, context: Context | None = None) -> Reply:
        """Run one invocation and wait (at most the context's timeout) for its answer."""
        context = context or Context()
        process = self._fresh()
        lines = process.drain()
        process.invoked = True
        try:
            process.send(
                {
                    "type": "invoke",
                    "id": context.aws_request_id,
                    "event": event,
                    "context": context.wire(time.time()),
                }
            )
            reply, fatal = self._reply(process, context)
        except BaseException:  # a protocol error, or Ctrl-C while waiting: its reply would
            self._discard()  # answer the next invocation, so this process is done
            raise
        lines.extend(process.drain())
        self.logs = lines
        reply = attrs.evolve(reply, logs=tuple(lines))
        if fatal or isinstance(reply, Crashed | NoAnswer) or process.status() is not None:
            self._discard()  # dead, or about to be: the next invocation starts a fresh one
        return reply

    def _reply(self, process: _Process, context: Context) -> tuple[Reply, bool]:
        """The invocation's reply, and whether the runner said it exits after it."""
        deadline = time.monotonic() + context.timeout_s
        while True:
            try:
                message = process.message(deadline - time.monotonic())
            except _Ended:
                return Crashed(process.ending()), True
            except _Silent:
                process.kill(f"no answer within {context.timeout_s:g} s")
                return NoAnswer(context.timeout_s), True
            except BrokenPipeError:
                return Crashed(process.ending()), True
            kind, id_ = message["type"], message.get("id")
            if kind in ("result", "error") and id_ == context.aws_request_id:
                skipped = float(message.get("skippedDelayMs") or 0)
                fatal = bool(message.get("fatal"))
                if kind == "result":
                    return Answered(message.get("value"), skipped_delay_ms=skipped), fatal
                return Raised(
                    str(message.get("errorType") or "Error"),
                    str(message.get("errorMessage") or ""),
                    skipped_delay_ms=skipped,
                ), fatal
            raise RunnerError(
                f"the runner answered invocation {context.aws_request_id} with a "
                f"{kind!r} message{f' for {id_}' if id_ else ''}; protocol {PROTOCOL} "
                "expects its result or error"
            )

    def kill(self, why: str = "killed by the harness") -> None:
        """Crash the running invocation: the process group dies now (any thread may call
        this); the pending ``invoke`` answers ``Crashed(why)``, the next one starts afresh."""
        if self._current is not None:
            self._current.kill(why)

    def reset(self) -> None:
        """Fresh state for the next example: a process that was never invoked (the spare,
        swapped in) with its own module state and SDK clients."""
        if self._current is not None and not self._current.invoked:
            return  # still as fresh as it gets
        self._discard()

    def stop(self) -> None:
        """End every process of this runner: the current one gets EOF on fd 3 and a moment to
        exit, then its group is killed; the spare, never invoked, is killed at once."""
        if self._standby is not None:
            self._standby.close()
        if self._current is not None:
            self._current.close(STOP_GRACE_S)
        self._current = self._standby = None

    # -- processes --

    def _spawn(self) -> _Process:
        assert self._command is not None, "start() the runner first"
        process = _Process(self._command)
        self.history.append(process.pid)
        return process

    def _ready(self, process: _Process) -> _Process:
        try:
            message = process.message(self.start_timeout_s)
        except _Ended:
            why = process.ending()
            process.close()
            raise RunnerError(f"the runner exited before it was ready ({why})") from None
        except _Silent:
            last = process.drain() and process.last_error_line
            process.close()
            raise RunnerError(
                f"the runner was not ready within {self.start_timeout_s:g} s"
                + (f": {last}" if last else " (it wrote nothing on stderr)")
            ) from None
        except RunnerError:
            process.close()
            raise
        self.startup_logs.extend(process.drain())
        if message["type"] == "failed":
            process.close()
            stage = message.get("stage", "load")
            raise RunnerError(f"the runner could not {stage} the handler: {message.get('message')}")
        if message["type"] != "ready" or message.get("protocol") != PROTOCOL:
            process.close()
            raise RunnerError(
                f"the runner's first message must be ready for protocol {PROTOCOL}, not "
                f"{json.dumps(message)[:80]}"
            )
        process.runtime = self.runtime = str(message.get("runtime") or "")
        return process

    def _fresh(self) -> _Process:
        """The process to invoke: the current one, else the spare (made ready), else a new one."""
        if self._current is not None and self._current.status() is None:
            return self._current
        if self._current is not None:
            self._discard()
        process, self._standby = self._standby, None
        if process is None or process.status() is not None:
            if process is not None:
                process.close()
            process = self._spawn()
        if not process.runtime:
            process = self._ready(process)
        self._current = process
        if self.spare:
            self._standby = self._spawn()
        return process

    def _discard(self) -> None:
        # Forgotten first: a Ctrl-C inside close() must not leave stop() a half-closed process.
        current, self._current = self._current, None
        if current is not None:
            current.kill("discarded by the harness")
            current.close()
