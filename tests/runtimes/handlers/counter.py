"""A test handler in Python, for the Python runner of examples/command: module state, output
on stdout and stderr, an exception when asked."""

import logging
import os
import sys

invocations = 0


class Refused(ValueError):
    pass


def handler(event, context):
    global invocations  # noqa: PLW0603 - module state is what the tests look at
    invocations += 1
    print(f"invocation {invocations} starts ({event.get('label')})")
    logging.getLogger("counter").warning("invocation %d ends", invocations)
    sys.stderr.flush()
    if event.get("refuse"):
        raise Refused(f"refused {event['refuse']}")
    return {
        "invocations": invocations,
        "pid": os.getpid(),
        "protocol": os.environ.get("QUEUECHECK_PROTOCOL"),
        "awsRequestId": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
    }
