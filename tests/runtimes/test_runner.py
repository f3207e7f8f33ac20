"""The runner protocol, end to end: the node runner and a Python runner answer, raise, log per
invocation, crash and start afresh, exactly as docs/runners.md says."""

from __future__ import annotations

import pytest
from runtimes.support import group_alive, node_or_skip

from model.harness.runtimes import node
from model.harness.runtimes.process import (
    Answered,
    Context,
    Crashed,
    NoAnswer,
    Raised,
    Runner,
)


@pytest.fixture
def counter(runner: Runner, handlers):
    node_or_skip()
    runner.start(node.command("counter.mjs:handler", handlers), {"GREETING": "hi"}, str(handlers))
    return runner


@pytest.fixture
def python_counter(runner: Runner, python_runner, handlers):
    runner.start([*python_runner, "counter.py:handler"], {}, str(handlers))
    return runner


def test_the_node_runner_answers_with_the_handlers_value(counter):
    """An async handler's value comes back as it returned it, with the Lambda context built
    from the harness's and the protocol version in the environment."""
    context = Context(aws_request_id="req-1", function_name="intake", timeout_s=30)
    reply = counter.invoke({"label": "first"}, context)

    assert isinstance(reply, Answered)
    assert 1 == reply.value["invocations"]
    assert "1" == reply.value["protocol"]
    assert "req-1" == reply.value["awsRequestId"]
    assert "intake" == reply.value["functionName"]
    assert (
        "arn:aws:lambda:us-east-1:123456789012:function:intake"
        == (reply.value["invokedFunctionArn"])
    )
    assert "128" == reply.value["memoryLimitInMB"]
    assert 0 < reply.value["remaining"] <= 30_000
    assert reply.value["waits"] is True
    assert counter.runtime.startswith("node v")


def test_logs_belong_to_the_invocation_that_wrote_them(counter):
    """stdout and stderr lines are read as the log of the invocation that was running, and
    never mix with the protocol."""
    first = counter.invoke({"label": "one"})
    second = counter.invoke({"label": "two"})

    assert {"invocation 1 starts (one)", "invocation 1 ends"} == set(first.logs)
    assert {"invocation 2 starts (two)", "invocation 2 ends"} == set(second.logs)
    assert list(second.logs) == counter.logs


def test_module_state_lives_across_invocations_and_reset_starts_it_over(counter):
    """A warm process keeps its module state; ``reset`` gives the next example a process that
    was never invoked (fresh module state, fresh SDK clients)."""
    counter.invoke({})
    warm = counter.invoke({})
    counter.reset()
    fresh = counter.invoke({})

    assert 2 == warm.value["invocations"]
    assert 1 == fresh.value["invocations"]
    assert warm.value["pid"] != fresh.value["pid"]


def test_reset_without_a_spare_starts_a_process_too(runners, handlers):
    """The spare only saves time: without it, the fresh process is started on demand."""
    node_or_skip()
    runner = Runner(spare=False)
    runners.append(runner)
    runner.start(node.command("counter.mjs:handler", handlers), {}, str(handlers))
    runner.invoke({})
    runner.reset()

    assert 1 == runner.invoke({}).value["invocations"]
    assert 2 == len(runner.history)


def test_a_handler_that_throws_is_raised_with_its_type_and_message(runner, handlers):
    """Throwing and rejecting are the handler's errors, not the runner's."""
    node_or_skip()
    runner.start(node.command("throws.mjs:handler", handlers), {}, str(handlers))

    assert Raised("TypeError", "no such thing") == runner.invoke({"how": "throw"})
    assert Raised("string", "just a string") == runner.invoke({"how": "reject"})
    assert Answered("fine") == runner.invoke({"how": "none"})


def test_an_exception_nobody_catches_fails_the_invocation_and_the_next_starts_cold(
    runner, handlers
):
    """As on Lambda, an uncaught exception fails the invocation and ends the environment."""
    node_or_skip()
    runner.start(node.command("throws.mjs:handler", handlers), {}, str(handlers))

    reply = runner.invoke({"how": "uncaught"})

    assert isinstance(reply, Raised)
    assert ("Runtime.UncaughtException", "escaped") == (reply.error_type, reply.error_message)
    assert Answered("fine") == runner.invoke({"how": "none"})
    assert 3 == len(runner.history)  # the first, its spare (now current), a new spare


def test_a_callback_style_handler_answers_once_its_event_loop_is_empty(runner, handlers):
    """A CommonJS handler with three parameters answers through its callback; Lambda waits for
    the event loop to empty first, so the line logged after the callback is this invocation's."""
    node_or_skip()
    runner.start(node.command("callback.cjs:handler", handlers), {}, str(handlers))

    reply = runner.invoke({"value": 7})

    assert Answered({"echo": 7}) == reply
    assert ("after the callback",) == reply.logs
    assert Raised("RangeError", "refused now") == runner.invoke({"fail": "now"})


def test_a_crash_kills_the_process_group_and_the_next_invocation_starts_afresh(counter):
    """``kill`` is an injected crash: the pending invocation is Crashed, and the next one runs
    in a new process (a cold start: module state is gone)."""
    counter.invoke({})
    crashed_pid = counter.pid
    counter.kill("crash injected at sqs.SendMessage")

    reply = counter.invoke({})
    after = counter.invoke({})

    assert Crashed("crash injected at sqs.SendMessage") == reply
    assert 1 == after.value["invocations"]
    assert crashed_pid != after.value["pid"]


def test_no_answer_within_the_timeout_kills_the_runner(runner, handlers):
    """A handler that never answers is a Lambda timeout: NoAnswer, the process killed."""
    node_or_skip()
    runner.start(node.command("loops.mjs:handler", handlers), {}, str(handlers))
    stuck = runner.pid

    reply = runner.invoke({}, Context(timeout_s=0.5))

    assert NoAnswer(0.5) == reply
    assert stuck not in runner.pids


def test_the_python_runner_speaks_the_same_protocol(python_counter):
    """examples/command/runner.py: the protocol alone runs a Python handler out of process,
    with answers, errors and logs per invocation."""
    first = python_counter.invoke({"label": "one"}, Context(aws_request_id="r-1"))
    refused = python_counter.invoke({"refuse": "it"})

    assert isinstance(first, Answered)
    assert (1, "1", "r-1") == (
        first.value["invocations"],
        first.value["protocol"],
        first.value["awsRequestId"],
    )
    assert ["invocation 1 ends", "invocation 1 starts (one)"] == sorted(
        line.rpartition(":")[2] if "WARNING" in line else line for line in first.logs
    )
    assert ("Refused", "refused it") == (refused.error_type, refused.error_message)
    assert python_counter.runtime.startswith("python ")


def test_the_python_runner_gets_fresh_state_too(python_counter):
    python_counter.invoke({})
    python_counter.reset()

    assert 1 == python_counter.invoke({}).value["invocations"]


def test_ctrl_c_while_waiting_for_an_answer_ends_that_process(counter, monkeypatch):
    """A Ctrl-C while the harness waits for an answer leaves that answer unread in the pipe:
    the process is discarded, so the next invocation is not answered with it (it was, and
    the protocol error that followed buried the interrupt)."""
    counter.invoke({})
    interrupted_pid = counter.pid
    reply = Runner._reply

    def interrupted_once(self, process, context):
        if context.aws_request_id == "r-1":
            raise KeyboardInterrupt
        return reply(self, process, context)

    monkeypatch.setattr(Runner, "_reply", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        counter.invoke({}, Context(aws_request_id="r-1"))
    after = counter.invoke({}, Context(aws_request_id="r-2"))

    assert not group_alive(interrupted_pid)
    assert ("r-2", 1) == (after.value["awsRequestId"], after.value["invocations"])
    assert interrupted_pid != after.value["pid"]
