"""Every way a runner can fail to start ends in one RunnerError line that says what went wrong
(with the runner's last stderr line where it has one), and leaves no process behind."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap

import pytest
from runtimes.support import group_alive, node_or_skip, still_running

from model.harness.runtimes import node
from model.harness.runtimes.process import Runner, RunnerError


def _fails(runner: Runner, command, cwd, match: str) -> str:
    with pytest.raises(RunnerError, match=match) as failure:
        runner.start(command, {}, str(cwd))
    message = str(failure.value)
    assert "\n" not in message
    for pid in runner.history:
        assert not group_alive(pid), f"process group {pid} was left behind"
    return message


@pytest.mark.parametrize(
    ("handler", "match"),
    [
        ("missing.mjs:handler", r"could not load the handler: Error: handler file .*missing\.mjs "),
        (
            "no_export.mjs:handler",
            r"no_export\.mjs exports no handler \(it exports: somethingElse\)",
        ),
        ("not_a_function.mjs:handler", r"export handler is a number, not a function"),
        ("throws_on_load.mjs:handler", r"could not load the handler: Error: the configuration is"),
    ],
)
def test_a_handler_that_cannot_be_loaded_is_one_line(runner, handlers, handler, match):
    """The node runner says ``failed`` at the load stage; the harness says why in one line."""
    node_or_skip()
    _fails(runner, node.command(handler, handlers), handlers, match)


def test_a_handler_that_never_finishes_loading_is_cut_at_the_start_timeout(runners, handlers):
    node_or_skip()
    runner = Runner(start_timeout_s=0.5)
    runners.append(runner)
    _fails(
        runner,
        node.command("hangs_on_load.mjs:handler", handlers),
        handlers,
        r"^the runner was not ready within 0\.5 s \(it wrote nothing on stderr\)$",
    )


def test_a_runner_that_exits_at_start_is_reported_with_its_last_stderr_line(runner, tmp_path):
    script = (
        "import sys; print('opening the handler', file=sys.stderr); "
        "print('no such table', file=sys.stderr); sys.exit(3)"
    )
    _fails(
        runner,
        [sys.executable, "-c", script],
        tmp_path,
        r"^the runner exited before it was ready "
        r"\(the runner exited with status 3: no such table\)$",
    )


def test_a_runner_that_hangs_at_start_is_killed(runners, tmp_path):
    runner = Runner(start_timeout_s=0.5)
    runners.append(runner)
    script = "import sys, time; print('warming up', file=sys.stderr, flush=True); time.sleep(600)"
    _fails(
        runner,
        [sys.executable, "-c", script],
        tmp_path,
        r"^the runner was not ready within 0\.5 s: warming up$",
    )


def test_a_runner_that_speaks_something_else_is_stopped(runner, tmp_path):
    script = "import os, time; os.write(4, b'HELLO 1.0\\n'); time.sleep(600)"
    _fails(
        runner,
        [sys.executable, "-c", script],
        tmp_path,
        r"^the runner wrote something other than queuecheck's protocol 1 on fd 4: 'HELLO 1\.0'$",
    )


def test_a_runner_of_another_protocol_version_is_stopped(runner, tmp_path):
    script = (
        'import os, time; os.write(4, b\'{"type": "ready", "protocol": 2}\\n\'); time.sleep(600)'
    )
    _fails(runner, [sys.executable, "-c", script], tmp_path, r"ready for protocol 1, not ")


def test_a_command_that_is_not_executable_is_one_line(runner, tmp_path):
    script = tmp_path / "runner.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(stat.S_IRUSR | stat.S_IWUSR)
    _fails(runner, ["./runner.sh"], tmp_path, r"^runner command './runner\.sh' is not executable$")


def test_a_command_that_is_not_found_is_one_line(runner, tmp_path):
    _fails(
        runner,
        ["queuecheck-no-such-runner"],
        tmp_path,
        r"^runner command 'queuecheck-no-such-runner' was not found on PATH$",
    )


def test_node_that_is_missing_or_too_old_is_one_line(tmp_path):
    """The node runtime needs node 18 or newer and says so."""
    old = tmp_path / "node"
    old.write_text("#!/bin/sh\necho v16.20.2\n")
    old.chmod(0o755)

    with pytest.raises(RunnerError, match=r"needs node 18 or newer; .*node is v16\.20\.2$"):
        node.node(str(old))
    with pytest.raises(
        RunnerError, match=r"needs node 18 or newer on PATH .*'no-node' was not found"
    ):
        node.node("no-node")


def test_a_runner_exits_when_the_harness_dies(handlers, tmp_path):
    """A harness that dies without cleaning up (SIGKILL, os._exit) closes fd 3; the runner
    exits by itself, and so does one whose handler is stuck in a loop (its watchdog)."""
    node_or_skip()
    harness = textwrap.dedent(
        f"""
        import os
        from model.harness.runtimes import node
        from model.harness.runtimes.process import Context, Runner
        idle, stuck = Runner(spare=False), Runner(spare=False)
        for runner, handler in ((idle, "counter.mjs:handler"), (stuck, "loops.mjs:handler")):
            runner.start(node.command(handler, {str(handlers)!r}), {{}}, {str(handlers)!r})
        # The invocation is in the stuck runner's pipe before the harness dies: it will loop.
        stuck._current.send({{"type": "invoke", "id": "1", "event": {{}},
                              "context": Context().wire(0)}})
        print(idle.pid, stuck.pid, flush=True)
        os._exit(0)  # no atexit, no cleanup: as if killed
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", harness],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    pids = [int(pid) for pid in done.stdout.split()]

    assert 2 == len(pids), done.stderr
    assert [] == still_running(pids, within_s=30), "runners outlived the harness that started them"


@pytest.mark.parametrize("ending", ["raise KeyboardInterrupt", "raise RuntimeError('boom')"])
def test_a_harness_that_ends_with_ctrl_c_or_an_exception_leaves_no_runner(
    handlers, tmp_path, ending
):
    """Interpreter exit kills every runner's process group (atexit): the runner and its spare
    are gone by the time the harness process has exited."""
    node_or_skip()
    harness = textwrap.dedent(
        f"""
        from model.harness.runtimes import node
        from model.harness.runtimes.process import Runner
        runner, folder = Runner(), {str(handlers)!r}
        runner.start(node.command("counter.mjs:handler", folder), {{}}, folder)
        runner.invoke({{}})
        print(*runner.pids, flush=True)
        {ending}
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", harness],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    pids = [int(pid) for pid in done.stdout.split()]

    assert 0 != done.returncode
    assert 2 == len(pids), done.stderr
    assert [] == [pid for pid in pids if group_alive(pid)]
