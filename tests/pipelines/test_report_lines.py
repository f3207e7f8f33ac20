"""The terminal report's coverage lines say what was not drawn, and why (here, where the
examples are imported as tests/pipelines/conftest.py imports them)."""

from pathlib import Path

from model.core.spec import load
from model.entrypoints.verify import Verdict, report
from model.harness.intake import load as load_intake
from model.harness.sandbox import start

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _report_of(name: str) -> str:
    start()
    pipeline = load(EXAMPLES / f"{name}.toml")
    intake = load_intake(pipeline.handler, pipeline)
    return report(intake, Verdict(pipeline.handler, "ci", 1.0, [], [], [], ()))


def test_interleavings_say_why_none_were_drawn_where_the_handler_makes_ids(sandbox):
    (line,) = [
        line for line in _report_of("tasks_made_ids").splitlines() if "interleavings:" in line
    ]
    assert line.endswith("(none drawn: the handler makes the ids, so no two invocations share one)")


def test_interleavings_are_explained_where_requests_carry_ids(sandbox):
    (line,) = [
        line for line in _report_of("invoices_rest").splitlines() if "interleavings:" in line
    ]
    assert "each a serial-order check" in line
