"""A malformed scenario file is rejected, naming the file, the step (number and action) and the
problem, so that whoever wrote it can fix it without reading Python."""

from __future__ import annotations

import pytest

from model.scenarios.check import load
from model.scenarios.format import ScenarioFormatError

SUBMIT = 'message = { messageId = "m-1", type = "t", payload = {} }'
PAIR = (
    'first = { message = { messageId = "m-1", type = "t", payload = {} } }\n'
    'second = { message = { messageId = "m-2", type = "t", payload = {} } }\n'
)
CASES = {
    "interleaving two ids": (
        f'[[step]]\ndo = "interleave"\n{PAIR}switches = [1]\n',
        ["step 1 (interleave)", "must share a messageId", "'m-1' and 'm-2'"],
    ),
    "interleaving without switches": (
        f'[[step]]\ndo = "interleave"\n{PAIR.replace("m-2", "m-1")}',
        ["step 1 (interleave)", "missing 'switches'"],
    ),
    "interleaving with a negative switch": (
        f'[[step]]\ndo = "interleave"\n{PAIR.replace("m-2", "m-1")}switches = [-1]\n',
        ["step 1 (interleave)", "'switches' must list AWS call counts"],
    ),
    "interleaving an invalid request": (
        '[[step]]\ndo = "interleave"\nfirst = { body = "{" }\n'
        'second = { message = { messageId = "m-1", type = "t", payload = {} } }\nswitches = [0]\n',
        ["step 1 (interleave)", "'first' must be a valid submission"],
    ),
    "interleaving with an expected answer": (
        f'[[step]]\ndo = "interleave"\n{PAIR.replace("m-2", "m-1")}switches = [0]\n'
        "expect.status = 202\n",
        ["step 1 (interleave)", "'expect.status' is about an answer"],
    ),
    "unknown action": (
        f'[[step]]\ndo = "sumbit"\n{SUBMIT}\n',
        ["step 1:", "unknown action 'sumbit'", "did you mean 'submit'", "plan fault"],
    ),
    "unknown fault kind": (
        '[[step]]\ndo = "plan fault"\noperation = "sqs.SendMessage"\nkind = "throtle"\n',
        ["step 1 (plan fault)", "unknown fault kind 'throtle'", "did you mean 'throttle'"],
    ),
    "unknown race kind": (
        '[[step]]\ndo = "plan race"\noperation = "sqs.SendMessage"\nkind = "consumer"\n',
        ["step 1 (plan race)", "unknown race kind 'consumer'", "consumer_advances"],
    ),
    "unknown operation": (
        '[[step]]\ndo = "plan fault"\noperation = "sqs.SendMesage"\nkind = "throttle"\n',
        [
            "step 1 (plan fault)",
            "unknown operation 'sqs.SendMesage'",
            "did you mean 'sqs.SendMessage'",
        ],
    ),
    "missing field": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\n\n[[step]]\ndo = "plan fault"\nkind = "throttle"\n',
        ["step 2 (plan fault)", "missing 'operation'"],
    ),
    "missing action": (f"[[step]]\n{SUBMIT}\n", ["step 1:", "missing 'do'"]),
    "bad type": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\nexpect.status = "202"\n',
        ["step 1 (submit)", "'expect.status' must be a whole number", 'got text "202"'],
    ),
    "boolean where a number belongs": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\nexpect.queue.messages = true\n',
        ["step 1 (submit)", "'expect.queue.messages' must be a whole number", "got boolean true"],
    ),
    "misspelt key": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\nexpect.stauts = 202\n',
        ["step 1 (submit)", "unknown key 'expect.stauts'", "did you mean 'expect.status'"],
    ),
    "times out of range": (
        '[[step]]\ndo = "plan fault"\noperation = "sqs.SendMessage"\n'
        'kind = "throttle"\ntimes = 0\n',
        ["step 1 (plan fault)", "'times' must be a number of attempts", '"always"'],
    ),
    "retry of an unknown label": (
        f'[[step]]\ndo = "submit"\nlabel = "first"\n{SUBMIT}\n\n'
        '[[step]]\ndo = "retry"\nof = "frist"\n',
        ["step 2 (retry)", "'of' = 'frist' is no earlier step's label", "first"],
    ),
    "retry of a later step": (
        f'[[step]]\ndo = "retry"\nof = 2\n\n[[step]]\ndo = "submit"\n{SUBMIT}\n',
        ["step 1 (retry)", "'of' = 2 names no earlier step"],
    ),
    "retry of a step that sends nothing": (
        '[[step]]\ndo = "clear faults"\n\n[[step]]\ndo = "retry"\nof = 1\n',
        ["step 2 (retry)", "step 1 (clear faults), which sends nothing"],
    ),
    "answer expected of a step that sends nothing": (
        '[[step]]\ndo = "clear faults"\nexpect.status = 200\n',
        ["step 1 (clear faults)", "'expect.status' is about an answer"],
    ),
    "unknown error code": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\nexpect.code = "CONFLICT"\n',
        ["step 1 (submit)", "unknown error code 'CONFLICT'", "IDEMPOTENCY_CONFLICT"],
    ),
    "two ways to send": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\nbody = "{{}}"\n',
        ["step 1 (submit)", "exactly one of 'message'", "['message', 'body']"],
    ),
    "record expected of an invalid request": (
        '[[step]]\ndo = "submit"\nbody = "nonsense"\nexpect.record.exists = false\n',
        ["step 1 (submit)", "this step names none", "expect.messageId"],
    ),
    "status for the wrong actor": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\n\n'
        '[[step]]\ndo = "another actor"\nactor = "writer"\nstatus = "FAILED"\n',
        ["step 2 (another actor)", "'status' is for actor = \"consumer\" only"],
    ),
    "unknown status": (
        f'[[step]]\ndo = "submit"\n{SUBMIT}\nexpect.record.status = "SENT"\n',
        ["step 1 (submit)", "unknown status 'SENT'", "QUEUED"],
    ),
    "a step that is not a table": ("step = [1]\n", ["step 1:", "must be a [[step]] table"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_rejected_naming_file_step_and_problem(case, scenario_file):
    """Each kind of mistake is rejected with a message naming the file, the step and the fix."""
    steps, fragments = CASES[case]
    path = scenario_file(steps, name="bad_scenario.toml")
    with pytest.raises(ScenarioFormatError) as caught:
        load(path)
    message = str(caught.value)
    assert [] == [
        fragment for fragment in ["bad_scenario.toml", *fragments] if fragment not in message
    ], message


def test_missing_name_is_rejected(scenario_file):
    """A file without a name says which key is missing and what it is for."""
    path = scenario_file(f'[[step]]\ndo = "submit"\n{SUBMIT}\n', header='description = "d"\n')
    with pytest.raises(
        ScenarioFormatError, match=r"under_test\.toml: missing 'name' \(a one-line title"
    ):
        load(path)


def test_invalid_toml_is_rejected_with_its_line(scenario_file):
    """A TOML syntax error names the file and passes on the parser's line and column."""
    path = scenario_file('[[step]]\ndo = "submit\n')
    with pytest.raises(ScenarioFormatError, match=r"under_test\.toml: not valid TOML: .*line 4"):
        load(path)


def test_a_label_is_used_once(scenario_file):
    """Two steps with one label would make every reference to it ambiguous."""
    path = scenario_file(
        f'[[step]]\ndo = "submit"\nlabel = "a"\n{SUBMIT}\n\n'
        '[[step]]\ndo = "get"\nlabel = "a"\nmessageId = "m-1"\n'
    )
    with pytest.raises(ScenarioFormatError, match=r"step 2 \(get\): label 'a' is already used"):
        load(path)
