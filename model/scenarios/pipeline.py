"""A pipeline's failing run as a scenario file, and the replay of one.

The file lists the steps of the shrunk story (submissions with their id and content, invalid
requests by what is wrong with them, faults, races, other actors) and names the pipeline file
and the invariant that broke. Replaying it drives the same state machine step by step, with
every generic invariant checked after every step and liveness at the end, so it fails on the
handler it was found on for the same reason, and passes once the bug is fixed.

    python -m model.scenarios.pipeline scenarios/found/tickets.toml [--handler module:function]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.core.plans import Fault, FaultKind, Race, RaceKind


class ScenarioFileError(Exception):
    """A pipeline scenario file that cannot be replayed."""


def _toml_string(text: str) -> str:
    return json.dumps(text)  # ASCII JSON string literals are valid TOML basic strings


def render(story: Sequence[Any], pipeline_path: str, handler: str, invariant: str) -> str:
    """The TOML text of a failing run's story."""
    lines = [
        f"# A failing run found by queuecheck for {handler}; it broke {invariant}.",
        f"# Replay: python -m model.scenarios.pipeline THIS_FILE --handler {handler}",
        f"pipeline = {_toml_string(pipeline_path)}",
        f"handler = {_toml_string(handler)}",
        f"broke = {_toml_string(invariant)}",
    ]
    for step in story:
        detail, fields = step.detail, []
        if step.action == "invoke" and "sent" in detail:
            fields = [
                ("do", "submit"),
                ("id", detail["sent"]["id"]),
                ("content", json.dumps(detail["sent"]["content"], sort_keys=True)),
            ]
        elif step.action == "invoke" and "case" in detail:
            fields = [("do", "invalid"), ("case", detail["case"])]
        elif step.action == "fault":
            fault: Fault = detail["fault"]
            times = "always" if fault.times is None else fault.times
            fields = [
                ("do", "plan fault"),
                ("operation", fault.operation),
                ("kind", str(fault.kind)),
                ("times", times),
                ("after", fault.after),
            ]
        elif step.action == "race":
            race: Race = detail["race"]
            fields = [
                ("do", "plan race"),
                ("operation", race.operation),
                ("kind", str(race.kind)),
                ("after", race.after),
            ]
        elif step.action == "actor":
            fields = [("do", "another actor"), ("actor", detail["actor"]), ("id", detail["id"])]
        elif step.action == "clear":
            fields = [("do", "clear faults")]
        if not fields:
            continue
        lines += ["", f"# {step.text[:300]}".replace("\n", " "), "[[step]]"]
        lines += [
            f"{name} = {value if isinstance(value, int) else _toml_string(str(value))}"
            for name, value in fields
        ]
    return "\n".join(lines) + "\n"


def write(
    story: Sequence[Any], path: str | Path, pipeline_path: str, handler: str, invariant: str
) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(story, pipeline_path, handler, invariant), encoding="utf-8")
    return out


def _step(machine: Any, number: int, step: dict[str, Any]) -> None:
    from model.harness.pipeline_machine import Request

    do = step.get("do")
    try:
        if do == "submit":
            machine.submit(Request(step["id"], json.loads(step["content"])))
        elif do == "invalid":
            machine.send_invalid(step["case"])
        elif do == "plan fault":
            times = None if step["times"] == "always" else int(step["times"])
            kind = FaultKind(step["kind"])
            machine.plan_fault(Fault(step["operation"], kind, times, int(step["after"])))
        elif do == "plan race":
            race = Race(step["operation"], RaceKind(step["kind"]), int(step["after"]))
            machine.plan_race(race)
        elif do == "another actor":
            machine.another_actor_acts(Request(step["id"], {}), step["actor"])
        elif do == "clear faults":
            machine.clear_faults()
        else:
            raise ScenarioFileError(f"step {number}: unknown do = {do!r}")
    except (KeyError, ValueError, TypeError) as exc:
        raise ScenarioFileError(f"step {number} ({do}): missing or wrong value: {exc}") from None


def replay(path: str | Path, handler_spec: str | None = None) -> None:
    """Run the scenario; raises ``AssertionError`` (the broken invariant and the story) if an
    invariant breaks, ``ScenarioFileError`` or ``PipelineFileError`` if a file is wrong."""
    from model.core.spec import load
    from model.harness.driver import load_handler
    from model.harness.pipeline_machine import machine_for_pipeline
    from model.harness.sandbox import start

    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioFileError(f"{path}: {exc}") from None
    pipeline_path = Path(document.get("pipeline", ""))
    if not pipeline_path.is_absolute() and not pipeline_path.exists():
        pipeline_path = Path(path).parent / pipeline_path
    pipeline = load(pipeline_path)
    start()
    handler = load_handler(handler_spec or document.get("handler") or pipeline.handler or "")
    machine = machine_for_pipeline(pipeline, handler)()
    for number, step in enumerate(document.get("step", []), 1):
        _step(machine, number, step)
    machine.teardown()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.scenarios.pipeline")
    parser.add_argument("scenario", help="a scenario file written by --save-scenario")
    parser.add_argument("--handler", default=None, help="module:function (default: the file's)")
    args = parser.parse_args(argv)
    from model.core.spec import PipelineFileError
    from model.harness.driver import HandlerLoadError

    try:
        replay(args.scenario, args.handler)
    except (ScenarioFileError, PipelineFileError, HandlerLoadError) as exc:
        print(f"queuecheck scenario: {exc}", file=sys.stderr)
        return 2
    except AssertionError as exc:
        print(f"FAIL - {exc}")
        return 1
    print(f"PASS - {args.scenario}: every invariant held after every step, and it ended live.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
