"""The state machine's verdict on every out-of-process example: the correct intakes pass, each
broken one fails on the invariant its bug breaks. Each runs in processes of its own behind the
proxy, on an HTTP backend (``tox -e node`` runs this with ``--backend moto-server``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from runtimes.support import COMMAND_EXAMPLES, NODE_EXAMPLES, sdk_or_skip

import model.harness.profiles  # noqa: F401 - registers the profiles by name
from model.core.spec import load as load_pipeline
from model.harness import backends
from model.harness.intake import load
from model.harness.machine import LAST_FAILURE, machine_for

pytestmark = pytest.mark.skipif(
    backends.current() not in ("moto-server", "dynalite"),
    reason="an out-of-process handler reaches AWS over HTTP: run with --backend moto-server "
    "(tox -e node does)",
)

CORRECT = [
    NODE_EXAMPLES / "parcels_rest.toml",
    NODE_EXAMPLES / "bookings_http.toml",
    NODE_EXAMPLES / "refunds_direct.toml",
    COMMAND_EXAMPLES / "signups_direct.toml",
]
BROKEN = {
    # the status update has no condition: it drags a record a consumer moved on back
    NODE_EXAMPLES / "alerts_unconditional_update.toml": {"statuses_only_move_forward"},
    # a failed send is logged and ignored: marked submitted, answered 202, nothing sent
    NODE_EXAMPLES / "payouts_swallowed_send_error.toml": {
        "queued_records_were_sent",
        "accepted_answers_mean_queued_and_sent",
    },
    # a repeat of a record still pending (its send failed) is answered as a finished
    # duplicate: accepted with nothing sent, seen alone, beside a twin, or at the end
    NODE_EXAMPLES / "claims_pending_repeat.toml": {
        "accepted_answers_mean_queued_and_sent",
        "a_serial_order_explains_them",
        "liveness",
    },
}
CI = settings.get_profile("ci")  # pinned: the names below are the ci profile's


def _run(path: Path) -> None:
    pipeline = load_pipeline(path)
    if pipeline.runtime == "node":
        sdk_or_skip()
    intake = load(pipeline.handler or "", pipeline)
    try:
        run_state_machine_as_test(machine_for(intake), settings=CI)
    finally:
        intake.handler.stop()


@pytest.mark.parametrize("path", CORRECT, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_a_correct_out_of_process_intake_passes(path):
    """Every fault, race and interleaving, every invariant after every step, liveness."""
    _run(path)


@pytest.mark.parametrize("path", sorted(BROKEN), ids=lambda path: path.stem)
def test_a_broken_out_of_process_intake_fails_on_its_invariant(path):
    """The run fails, and names the invariant the example's bug breaks."""
    with pytest.raises(AssertionError, match="invariant "):
        _run(path)
    assert LAST_FAILURE.invariant.split(" (")[0] in BROKEN[path], LAST_FAILURE.problems
