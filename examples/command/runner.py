"""A queuecheck runner in plain Python: protocol 1 (docs/runners.md) and nothing else.

    python3 runner.py PATH:FUNCTION

It shows that the protocol is all a runtime needs: queuecheck starts this with the handler's
environment, sends one ``invoke`` line per invocation on fd 3, and reads one ``result`` or
``error`` line per invocation on fd 4. Whatever the handler prints or logs goes to stdout and
stderr, which queuecheck reads as that invocation's log lines.

botocore's retry sleeps are skipped and counted (``skippedDelayMs``), so faults that the SDK
retries cost no real time; the attempts are the ones botocore decides.
"""

import importlib.util
import json
import logging
import os
import sys
import time
from pathlib import Path

PROTOCOL = 1
FROM_HARNESS, TO_HARNESS = 3, 4


def send(message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(TO_HARNESS, data) :]


class Sleeps:
    """Stands in for ``time`` inside botocore: a retry's sleep is counted, not slept."""

    skipped_s = 0.0

    def sleep(self, seconds):
        Sleeps.skipped_s += seconds

    def __getattr__(self, name):
        return getattr(time, name)


def load(spec):
    path, _, function = spec.rpartition(":")
    if not path or not function:
        raise ValueError(f"{spec!r} must be PATH:FUNCTION")
    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(f"handler file {file} does not exist")
    sys.path.insert(0, str(file.parent))  # the handler's own imports, from its folder
    module_spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[file.stem] = module
    module_spec.loader.exec_module(module)
    handler = getattr(module, function, None)
    if not callable(handler):
        raise TypeError(f"{file.name} has no function {function}")
    return handler


class Context:
    """The Lambda context object, as the Python runtime spells it."""

    def __init__(self, wire):
        self.aws_request_id = wire["awsRequestId"]
        self.function_name = wire["functionName"]
        self.function_version = wire["functionVersion"]
        self.invoked_function_arn = wire["invokedFunctionArn"]
        self.memory_limit_in_mb = int(wire["memoryLimitInMB"])
        self.log_group_name = wire["logGroupName"]
        self.log_stream_name = wire["logStreamName"]
        self._deadline_ms = wire["deadlineMs"]
        self._skipped_at_start = Sleeps.skipped_s

    def get_remaining_time_in_millis(self):
        skipped_ms = (Sleeps.skipped_s - self._skipped_at_start) * 1000
        return max(0, int(self._deadline_ms - time.time() * 1000 - skipped_ms))


def invoke(handler, message):
    skipped_before = Sleeps.skipped_s
    try:
        value = handler(message["event"], Context(message["context"]))
        reply = {"type": "result", "id": message["id"], "value": json.loads(json.dumps(value))}
    except Exception as exc:  # the handler's failure is the invocation's answer
        reply = {
            "type": "error",
            "id": message["id"],
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
        }
    reply["skippedDelayMs"] = (Sleeps.skipped_s - skipped_before) * 1000
    sys.stdout.flush()  # everything the handler wrote is on its way before the answer
    sys.stderr.flush()
    send(reply)


def main():
    logging.basicConfig(stream=sys.stderr)  # WARNING and up, as an unconfigured logger
    try:
        import botocore.endpoint

        botocore.endpoint.time = Sleeps()
    except ImportError:
        pass
    try:
        handler = load(sys.argv[1] if len(sys.argv) > 1 else "")
    except Exception as exc:
        send({"type": "failed", "stage": "load", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    send({"type": "ready", "protocol": PROTOCOL, "runtime": f"python {sys.version.split()[0]}"})
    with os.fdopen(FROM_HARNESS, "rb") as harness:
        for line in harness:  # ends when the harness closes fd 3
            if line.strip():
                invoke(handler, json.loads(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
