"""From a failing run to a scenario file: the state machine's shrunk story, replayable by anyone.

``python -m model.scenarios.writer --handler stateful.zoo:no_resume_of_pending`` runs the state
machine against a handler (ci profile), takes the story of the shrunk failing run
(``model.harness.machine.LAST_FAILURE``), and writes one step per story line. Expectations come from
the model, never from the broken handler: each invocation expects the answer
``model.core.outcomes.allowed`` permits when that is a single one (computed on a replay against the
reference, which must keep every invariant), and record status and message counts where the
model alone decides them. What the broken handler did stays in the file as comments. So the
file passes on the reference and fails on the handler it was found on; the writer checks both.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from model.core import contract
from model.core.outcomes import CRASH, Outcome
from model.scenarios.check import check, describe_outcomes
from model.scenarios.format import Request, Scenario, parse
from model.scenarios.runner import run

Handler = Callable[[Any, Any], Any]
ACTORS = {
    "consumer moves on": "consumer",
    "another writer annotates": "writer",
    "record expires": "expiry",
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_INT64 = 2**63


@attrs.frozen
class Found:
    """A failing run of the state machine: the handler, what broke, and the story that led there."""

    handler: str
    invariant: str
    problems: tuple[str, ...]
    story: tuple[Any, ...]
    ignored: tuple[str, ...] = ()
    """Invariants switched off in the run that found it (found broken before it)."""


@attrs.frozen
class Written:
    """What the writer produced and how the file fared on both handlers."""

    path: Path
    found: Found
    scenario: Scenario
    failure_on_handler: str | None
    """The scenario's failure message on the handler it was found on (None: it passed there)."""


# -- finding a failure -----------------------------------------------------------------


def find_failure(handler: Handler, spec: str, profile: str = "ci") -> Found | None:
    """Run the state machine against ``handler``; the shrunk failing run, or None if it passes."""
    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test

    import model.harness.profiles  # noqa: F401 - registers the profiles by name
    from model.harness.machine import LAST_FAILURE, machine_for

    LAST_FAILURE.story, LAST_FAILURE.invariant, LAST_FAILURE.problems = [], "", []
    try:
        machine = machine_for(handler)
        run_state_machine_as_test(machine, settings=settings.get_profile(profile))  # type: ignore[no-untyped-call]
    except Exception as exc:  # whatever Hypothesis re-raises for the shrunk run
        if not LAST_FAILURE.story or "invariant " not in str(exc):
            raise
        return Found(
            spec, LAST_FAILURE.invariant, tuple(LAST_FAILURE.problems), tuple(LAST_FAILURE.story)
        )
    return None


# -- a story as scenario steps ---------------------------------------------------------


def tomlable(value: Any) -> bool:
    """Whether TOML can say this JSON value (it has no null, and integers stop at 64 bits)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, list):
        return all(tomlable(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and tomlable(item) for key, item in value.items())
    return False


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value if item is not None]
    return value


def _request_id(event: Mapping[str, Any]) -> str:
    context = event.get("requestContext")
    return str(context.get("requestId", "req-0")) if isinstance(context, dict) else "req-0"


def request_keys(event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The keys of a submit or get step that send ``event`` again, and a note if only close."""
    request_id = _request_id(event)
    body, headers = event.get("body"), dict(event.get("headers") or {})
    method, path = str(event.get("httpMethod")), str(event.get("path"))
    route = {} if (method, path) == ("POST", "/messages") else {"method": method, "path": path}
    parameters = event.get("pathParameters") or {}
    if method == "GET" and isinstance(parameters.get("messageId"), str):
        lookup = parameters["messageId"]
        if Request(lookup=lookup).event(request_id) == event:
            return {"do": "get", "messageId": lookup}, None
    extra = {k: v for k, v in headers.items() if (k, v) != ("Content-Type", "application/json")}
    options = {"headers": extra} if extra else {}
    if isinstance(body, str) and not event.get("isBase64Encoded"):
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        if isinstance(message, dict) and tomlable(message):
            candidate = Request(message=message, headers=extra, method=method, path=path)
            if candidate.event(request_id) == event:
                return {"do": "submit", **route, "message": message, **options}, None
    judged = contract.judge(event)
    if (
        isinstance(body, str)
        and len(body) > 4096
        and judged == contract.Rejection(413, "PAYLOAD_TOO_LARGE")
    ):
        small = {"type": "order.created", "payload": {}}
        size = len(body.encode("utf-8", "surrogatepass"))
        keys = {"do": "submit", **route, "message": small, **options, "pad_body_to": size}
        return (
            keys,
            f"the run sent a {size}-byte body; this sends a small message padded to that size",
        )
    if isinstance(body, str) and tomlable(body):
        base64 = bool(event.get("isBase64Encoded"))
        candidate = Request(body=body, headers=extra, base64=base64, method=method, path=path)
        if candidate.event(request_id) == event:
            return {
                "do": "submit",
                **route,
                "body": body,
                **options,
                **({"base64": True} if base64 else {}),
            }, None
    raw = _without_nulls(event)
    note = (
        None
        if raw == event
        else "TOML has no null: the event is sent with its null fields left out"
    )
    return {"do": "submit", "event": raw}, note


def _comparable(event: Mapping[str, Any]) -> str:
    """An event without its request id: two invocations of one request compare equal."""
    copy = dict(event)
    if isinstance(copy.get("requestContext"), dict):
        copy["requestContext"] = {
            k: v for k, v in copy["requestContext"].items() if k != "requestId"
        }
    return json.dumps(copy, sort_keys=True, default=str)


def draft(found: Found) -> tuple[list[dict[str, Any]], list[list[str]], bool]:
    """Steps (as TOML data) repeating the story, each one's comments, and whether to ask liveness.

    A liveness failure happens after the story's last step, once faults stop and retries run:
    the steps end before that and the scenario asks for liveness instead.
    """
    story = list(found.story)
    liveness = found.invariant == "liveness"
    if liveness:
        stop = max(
            (
                i
                for i, entry in enumerate(story)
                if entry.action == "clear" and entry.text == "faults stop"
            ),
            default=len(story),
        )
        story = story[:stop]
    steps: list[dict[str, Any]] = []
    comments: list[list[str]] = []
    seen: dict[str, int] = {}
    pending_notes: list[str] = []
    for entry in story:
        keys, notes = _step_keys(entry, seen, len(steps) + 1)
        if keys is None:
            pending_notes += notes
            continue
        steps.append(keys)
        comments.append(pending_notes + notes)
        pending_notes = []
    return steps, comments, liveness


def _step_keys(
    entry: Any, seen: dict[str, int], number: int
) -> tuple[dict[str, Any] | None, list[str]]:
    detail = entry.detail
    if entry.action == "fault":
        fault = detail["fault"]
        keys = {
            "do": "plan fault",
            "operation": fault.operation,
            "kind": str(fault.kind),
            "times": "always" if fault.times is None else fault.times,
        }
        return keys | ({"after": fault.after} if fault.after else {}), []
    if entry.action == "race":
        race = detail["race"]
        keys = {"do": "plan race", "operation": race.operation, "kind": str(race.kind)}
        return keys | ({"after": race.after} if race.after else {}), []
    if entry.action == "clear":
        return {"do": "clear faults"}, []
    if entry.action == "interleave":
        pair, notes = {}, [f"the failing run: {entry.text.partition(': A -> ')[2]}"]
        for name, event in zip(("first", "second"), detail["events"], strict=True):
            keys, note = request_keys(event)
            pair[name] = {key: value for key, value in keys.items() if key != "do"}
            notes += [f"{name}: {note}"] if note else []
        return {"do": "interleave", **pair, "switches": list(detail["switches"].calls)}, notes
    if entry.action == "actor":
        if entry.text.endswith("(nothing to do)"):
            return None, [f"(the run also had: {entry.text})"]
        return {
            "do": "another actor",
            "actor": ACTORS[detail["actor"]],
            "messageId": detail["message_id"],
        }, []
    assert entry.action == "invoke", entry
    event = detail["event"]
    answered = entry.text.partition(" -> ")[2]
    state = []
    if detail.get("record") is not None:
        state.append(f"record {detail['record']}")
    if detail.get("messages") is not None:
        state.append(f"{detail['messages']} message(s) for the id")
    notes = [f"the failing run: {answered}" + (f"; then {', '.join(state)}" if state else "")]
    key = _comparable(event)
    if key in seen:
        return {"do": "retry", "of": seen[key]}, notes
    seen[key] = number
    keys, note = request_keys(event)
    return keys, notes + ([note] if note else [])


# -- expectations from the model ---------------------------------------------------------


def _answer_keys(outcome: Outcome) -> dict[str, Any]:
    if outcome.code == CRASH:
        return {"crashed": True}
    keys: dict[str, Any] = {"status": outcome.status}
    if outcome.code is not None:
        keys["code"] = outcome.code
    if outcome.duplicate is not None:
        keys["duplicate"] = outcome.duplicate
    return keys


def add_expectations(
    document: dict[str, Any], path: Path, reference: Handler, notes: list[list[str]]
) -> None:
    """Fill in what the model expects of each step (in place).

    Answers: replay against the reference (which must keep every invariant), and take the
    allowed answer wherever the model allows exactly one. Then record status and message
    counts wherever the model decides them on its own (``model.scenarios.ModelWalk``).
    """
    observations = run(parse(document, path), reference, expectations=False)
    for number, (observation, step) in enumerate(zip(observations, document["step"], strict=True)):
        expect: dict[str, Any] = {}
        if len(observation.permitted) == 1:
            expect.update(_answer_keys(next(iter(observation.permitted))))
        elif observation.permitted:
            notes[number].append(
                f"the model allows {describe_outcomes(observation.permitted)}: no answer expected"
            )
        if observation.competitors:
            permitted = observation.competitors[0].permitted()
            if len(permitted) == 1:
                expect["competitor"] = _answer_keys(next(iter(permitted)))
        if expect:
            step["expect"] = expect
    walk = check(parse(document, path))
    for number, step in enumerate(document["step"], 1):
        known = walk.after.get(number)
        if known is None or step["do"] in ("plan fault", "plan race", "clear faults"):
            continue
        expect = step.setdefault("expect", {})
        expect["record"] = {"status": str(known.status)} if known.present else {"exists": False}
        if known.messages is not None:
            expect["queue"] = {"messages": known.messages}


# -- TOML out --------------------------------------------------------------------------


def _text(value: str) -> str:
    escapes = {
        '"': '\\"',
        "\\": "\\\\",
        "\b": "\\b",
        "\t": "\\t",
        "\n": "\\n",
        "\f": "\\f",
        "\r": "\\r",
    }
    out = []
    for char in value:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _text(key)


def value(item: Any) -> str:
    """One TOML value, inline (tables as ``{ k = v }``)."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)
    if isinstance(item, str):
        return _text(item)
    if isinstance(item, list):
        return "[" + ", ".join(value(part) for part in item) + "]"
    if isinstance(item, dict):
        if not item:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {value(v)}" for k, v in item.items()) + " }"
    raise TypeError(f"TOML cannot hold {item!r}")


def _multiline(text: str) -> str:
    """A TOML multi-line basic string: newlines kept, a backslash escaped, a quote escaped
    where it would make three in a row or end the text, every other control character as
    ``\\uXXXX``."""
    out, quotes = [], 0
    for char in text:
        if char == '"':
            quotes += 1
            out.append('"' if quotes < 3 else '\\"')
            quotes %= 3
            continue
        quotes = 0
        if char == "\\":
            out.append("\\\\")
        elif char in "\n\t":
            out.append(char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    for back in range(1, quotes + 1):  # quotes at the very end would run into the closing ones
        out[-back] = '\\"'
    return f'"""\n{"".join(out)}"""'


def _wrapped(text: str, width: int = 94) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def render(document: Mapping[str, Any], comments: list[list[str]], header: list[str]) -> str:
    """The scenario as TOML, in the hand-written files' layout (``expect.*`` as dotted keys)."""
    out = [f"# {line}" for line in header]
    out += [
        f"name = {_text(document['name'])}",
        f"description = {_multiline(document['description'])}",
    ]
    named = ("pipeline", "handler", "broke")
    out += [f"{key} = {_text(document[key])}" for key in named if key in document]
    if document.get("ignored"):
        out.append(f"ignored = {value(document['ignored'])}")
    if document.get("liveness"):
        out.append("liveness = true")
    for step, notes in zip(document["step"], comments, strict=True):
        out.append("")
        out += [f"# {note}" for note in notes]
        out.append("[[step]]")
        out += [f"{_key(k)} = {value(v)}" for k, v in step.items() if k != "expect"]
        for key, item in step.get("expect", {}).items():
            if key in ("record", "queue"):
                out += [f"expect.{key}.{_key(k)} = {value(v)}" for k, v in item.items()]
            else:
                out.append(f"expect.{_key(key)} = {value(item)}")
    return "\n".join(out) + "\n"


# -- the whole way ---------------------------------------------------------------------


def scenario_text(found: Found, path: Path, reference: Handler, profile: str = "ci") -> str:
    """The TOML text of a scenario reproducing ``found``, with the model's expectations."""
    steps, comments, liveness = draft(found)
    problems = "; ".join(found.problems)
    document: dict[str, Any] = {
        "name": f"Found by the state machine: {found.handler} breaks {found.invariant}",
        "description": _wrapped(
            f"Written by model.scenarios.writer from the shrunk failing run of {found.handler} "
            f"({profile} profile), which broke {found.invariant}: {problems}. Each step repeats a "
            "step of that run. Expected answers are those the model allows, where it allows "
            "exactly one (computed on a replay against the reference); record status and message "
            "counts are expected where the model alone decides them. Comments say what the "
            "failing run did."
        )
        + "\n",
        "handler": found.handler.split(" (")[0],
        **({"ignored": list(found.ignored)} if found.ignored else {}),
        "step": steps,
    }
    if liveness:
        document["liveness"] = True
    add_expectations(document, path, reference, comments)
    header = [
        f"Found on {found.handler} by model.scenarios.writer (scenarios/README.md).",
        f"The failing run broke {found.invariant}:",
        *[f"  {problem}" for problem in found.problems],
    ]
    text = render(document, comments, header)
    import tomllib

    if tomllib.loads(text) != document:  # the writer's own TOML must read back as written
        raise AssertionError(f"scenario_writer produced TOML that does not read back:\n{text}")
    return text


# -- a pipeline file's failing run ---------------------------------------------------------

PIPELINE_ACTORS = {"consumer moves on": "consumer", "another writer annotates": "writer"}


def _content_keys(submitted: Mapping[str, Any]) -> dict[str, Any]:
    """The id and content of a submission, as TOML says them (JSON text where TOML cannot; no
    id where the handler makes it); an invalid record of a batch by its case."""
    if "case" in submitted:
        return {"case": submitted["case"]}
    content = submitted["content"]
    keys = {} if submitted.get("id") is None else {"id": submitted["id"]}
    if tomlable(content):
        return {**keys, "content": content}
    return {**keys, "content_json": json.dumps(content, sort_keys=True)}


def _alone(submitted: Any) -> Any:
    """An interleaved invocation's request (an SQS batch of one: its record)."""
    return submitted[0] if isinstance(submitted, list) else submitted


def pipeline_steps(found: Found) -> tuple[list[dict[str, Any]], list[list[str]], bool]:
    """A pipeline run's story as scenario steps in the pipeline file's words, each one's
    comment (the story line), and whether the run broke liveness (then the steps end where
    faults stopped, and the scenario asks for liveness)."""
    story = list(found.story)
    liveness = found.invariant == "liveness"
    if liveness:
        stop = next(
            (i for i, e in enumerate(story) if e.action == "clear" and e.text == "faults stop"),
            len(story),
        )
        story = story[:stop]
    steps: list[dict[str, Any]] = []
    comments: list[list[str]] = []
    seen: dict[str, int] = {}
    for entry in story:
        detail, keys = entry.detail, None
        if entry.action == "invoke" and "event" in detail:
            key = _comparable(detail["event"])
            if key in seen:
                keys = {"do": "retry", "of": seen[key]}
            elif isinstance(detail.get("submitted"), list):  # an SQS batch
                keys = {"do": "submit", "records": [_content_keys(r) for r in detail["submitted"]]}
            elif "submitted" in detail:
                keys = {"do": "submit", **_content_keys(detail["submitted"])}
            elif "case" in detail:
                keys = {"do": "invalid", "case": detail["case"]}
            if keys is not None and keys["do"] != "retry":
                seen[key] = len(steps) + 1
        elif entry.action == "interleave" and "submitted" in detail:
            first, second = (_content_keys(_alone(one)) for one in detail["submitted"])
            keys = {
                "do": "interleave",
                "first": first,
                "second": second,
                "switches": list(detail["switches"].calls),
            }
        elif entry.action == "actor" and not entry.text.endswith("(nothing to do)"):
            actor = PIPELINE_ACTORS[detail["actor"]]
            keys = {"do": "another actor", "actor": actor, "id": detail["message_id"]}
        elif entry.action in ("fault", "race", "clear"):
            keys, _ = _step_keys(entry, {}, len(steps) + 1)
        if keys is not None:
            steps.append(keys)
            comments.append([f"the failing run: {entry.text}"[:400]])
    return steps, comments, liveness


def pipeline_scenario_text(found: Found, pipeline_path: str) -> str:
    """The TOML text of a scenario that replays a pipeline intake's failing run."""
    steps, comments, _ = pipeline_steps(found)  # liveness: the replay always ends with it
    problems = "; ".join(found.problems)
    document: dict[str, Any] = {
        "name": f"Found by the state machine: {found.handler} breaks {found.invariant}",
        "description": _wrapped(
            f"Written from the shrunk failing run of {found.handler}, which broke "
            f"{found.invariant}: {problems}. Each step repeats a step of that run, in the "
            "pipeline file's words; every generic invariant is checked after every step, so "
            "the file fails where the run failed, and passes once the bug is fixed."
        )
        + "\n",
        "pipeline": pipeline_path,
        "handler": found.handler,
        "broke": found.invariant,
        **({"ignored": list(found.ignored)} if found.ignored else {}),
        "step": steps,
    }
    document["liveness"] = True  # as the run it repeats did
    header = [
        f"A failing run found by queuecheck for {found.handler}; it broke {found.invariant}.",
        "Replay: python -m model.scenarios THIS_FILE [--handler module:function]",
    ]
    text = render(document, comments, header)
    import tomllib

    if tomllib.loads(text) != document:  # the writer's own TOML must read back as written
        raise AssertionError(f"the scenario writer produced TOML that does not read back:\n{text}")
    return text


def write_pipeline_scenario(
    failure: Any, out: str | Path, *, handler: str, pipeline_path: str
) -> Path:
    """Save a recorded failing run of a pipeline intake as a scenario file at ``out``."""
    found = Found(
        handler,
        failure.invariant,
        tuple(failure.problems),
        tuple(failure.story),
        tuple(getattr(failure, "ignored", ())),
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pipeline_scenario_text(found, pipeline_path), encoding="utf-8")
    return path


def last_failure(spec: str) -> Found | None:
    """The story the state machine recorded for its last failing run (``LAST_FAILURE``), if any.

    For a pytest hook after a failed stateful test: Hypothesis replays the shrunk run last.
    """
    from model.harness.machine import LAST_FAILURE

    if not LAST_FAILURE.story:
        return None
    return Found(
        spec, LAST_FAILURE.invariant, tuple(LAST_FAILURE.problems), tuple(LAST_FAILURE.story)
    )


def default_path(found: Found) -> Path:
    variant = re.sub(r"\W+", "_", found.handler.rpartition(":")[2] or found.handler)
    return Path("scenarios") / "found" / f"{variant}_breaks_{found.invariant}.toml"


def save(found: Found, out: Path, profile: str = "ci") -> Scenario:
    """Write ``found`` as a scenario file and prove it green on the reference (else it raises)."""
    from model.harness.driver import DEFAULT_HANDLER, load_handler
    from model.scenarios.check import load

    reference = load_handler(DEFAULT_HANDLER)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(scenario_text(found, out, reference, profile), encoding="utf-8")
    scenario = load(out)
    run(scenario, reference)
    return scenario


def write_scenario(
    failure: Any, out: str | Path, *, handler: str, profile: str | None = None
) -> Path:
    """Save a recorded failing run (``model.harness.machine.LAST_FAILURE``) as a scenario file
    at ``out``, for callers that ran the state machine themselves (``--save-scenario``).
    """
    from model.harness import profiles

    found = Found(
        handler,
        failure.invariant,
        tuple(failure.problems),
        tuple(failure.story),
        tuple(getattr(failure, "ignored", ())),
    )
    path = Path(out)
    save(found, path, profile or profiles.current())
    return path


def write(spec: str, out: Path | None = None, profile: str = "ci") -> Written | None:
    """Find a failing run of ``spec``, write it as a scenario, and run it on both handlers."""
    from model.harness.driver import load_handler
    from model.harness.sandbox import start
    from model.scenarios.format import ScenarioError

    start()
    handler = load_handler(spec)
    found = find_failure(handler, spec, profile)
    if found is None:
        return None
    out = out or default_path(found)
    scenario = save(found, out, profile)
    try:
        run(scenario, handler)
    except ScenarioError as error:
        return Written(out, found, scenario, str(error))
    return Written(out, found, scenario, None)


def main(argv: list[str] | None = None) -> int:
    """``python -m model.scenarios.writer --handler module:function [--out FILE] [--profile X]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m model.scenarios.writer",
        description="Save the failing run the state machine finds for a handler as a scenario.",
    )
    parser.add_argument(
        "--handler", required=True, help="module:function, importable from PYTHONPATH"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write (default: scenarios/found/<variant>_breaks_<invariant>.toml)",
    )
    parser.add_argument("--profile", default="ci", choices=("ci", "dev", "thorough"))
    options = parser.parse_args(argv)
    written = write(options.handler, options.out, options.profile)
    if written is None:
        print(
            f"no failing run: {options.handler} kept every invariant "
            f"on the {options.profile} profile"
        )
        return 1
    print(
        f"{options.handler} broke {written.found.invariant}; wrote {written.path} "
        f"({len(written.scenario.steps)} steps)"
    )
    print("  on the reference: passes")
    if written.failure_on_handler is None:
        print(f"  on {options.handler}: passes too (the failure did not replay)")
        return 1
    print(f"  on {options.handler}: fails, as it should:")
    print("    " + written.failure_on_handler.replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
