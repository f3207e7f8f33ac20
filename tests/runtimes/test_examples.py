"""Each out-of-process example answers a plain valid request through a Runner and the proxy,
against moto's server, with the right answer, and stores and sends what its pipeline file says.
(The state machine's verdicts on them: test_verdicts.py.)"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest
from runtimes.support import COMMAND_EXAMPLES, NODE_EXAMPLES, Moto, sdk_or_skip

from model.core import spec
from model.core.sources import event_for, read_answer
from model.core.views import Kind
from model.harness.runtimes import node
from model.harness.runtimes.process import Answered, Runner

NODE_PIPELINES = sorted(NODE_EXAMPLES.glob("*.toml"))
RUNTIME_KEYS = ("runtime", "handler", "command")


def _pipeline(path: Path) -> tuple[dict[str, object], spec.Pipeline]:
    document = tomllib.loads(path.read_text())
    runtime = {key: document[key] for key in RUNTIME_KEYS if key in document}
    return runtime, spec.load(path)


def _command(path: Path, runtime: dict[str, object]) -> list[str]:
    if runtime["runtime"] == "node":
        return node.command(str(runtime["handler"]), path.parent)
    argv = [str(part) for part in runtime["command"]]  # type: ignore[union-attr]
    return [sys.executable if argv[0] == "python3" else argv[0], *argv[1:]]


def test_every_node_example_has_a_pipeline_file_and_a_handler():
    handlers = {path.stem for path in NODE_EXAMPLES.glob("*.mjs")}

    assert handlers == {path.stem for path in NODE_PIPELINES}
    assert 6 == len(handlers)
    for path in NODE_PIPELINES:
        runtime, _ = _pipeline(path)
        assert {"runtime": "node", "handler": f"{path.stem}.mjs:handler"} == runtime


@pytest.mark.parametrize(
    "path",
    [*NODE_PIPELINES, COMMAND_EXAMPLES / "signups_direct.toml"],
    ids=lambda path: f"{path.parent.name}/{path.stem}",
)
def test_an_example_accepts_a_valid_request(path, runners, moto: Moto, proxy):
    runtime, pipeline = _pipeline(path)
    if runtime["runtime"] == "node":
        sdk_or_skip()
    table = moto.table(*(part.attribute for part in pipeline.key))
    queue = moto.queue()
    env = {
        **proxy.environment(0),
        **node.ENVIRONMENT,
        pipeline.table_env: table,
        pipeline.queue_env: proxy.queue_url(queue),
    }
    runner = Runner(spare=False)
    runners.append(runner)
    runner.start(_command(path, runtime), env, str(path.parent))
    content = {"sku": "A-1", "canary": "qc-canary-0000abcd"}
    event = event_for(pipeline, pipeline.body("id-1", content), "req-1")

    reply = runner.invoke(event)

    assert isinstance(reply, Answered), reply
    assert Kind.ACCEPTED == read_answer(pipeline, reply.value).kind
    [item] = moto.items(table)
    assert pipeline.key_for("id-1") == {
        part.attribute: item[part.attribute]["S"] for part in pipeline.key
    }
    assert pipeline.queued == item[pipeline.status]["S"]
    [body] = moto.bodies(queue)
    assert "id-1" == pipeline.id_in_message(json.loads(body))
    assert [body] == [sent for sent, _ in proxy.recorder.sent]
    assert not any("qc-canary" in line for line in reply.logs)
