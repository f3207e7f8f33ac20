"""What fresh state costs out of process (docs/runners.md, "Fresh state"): ms per reset and
ms per invocation of a node example through the proxy against moto's server, and the same
for a process restarted without a spare.

    python benchmarks/runner_costs.py [ROUNDS]

Needs node and ``npm ci --prefix examples/node``. A reset is timed from ``reset()`` to the
end of the first invocation after it, minus a warm invocation's median; each example in
between is ``INVOCATIONS`` invocations (the spare loads meanwhile, as it would in a run).
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVOCATIONS = 10


def main(rounds: int = 20) -> None:
    from moto.server import ThreadedMotoServer

    from model.core import spec
    from model.core.sources import event_for
    from model.harness.faults import Injector
    from model.harness.runtimes import node
    from model.harness.runtimes.process import Runner
    from model.harness.runtimes.proxy import Proxy

    sys.path.insert(0, str(ROOT / "tests"))
    from runtimes.support import Moto

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = Moto(f"http://{host}:{port}")
    path = ROOT / "examples" / "node" / "parcels_rest.toml"
    document = tomllib.loads(path.read_text())
    handler = document.pop("handler")
    document.pop("runtime")
    pipeline = spec.parse(document)
    proxy = Proxy({"dynamodb": moto.url, "sqs": moto.url}, Injector()).start()
    env = {
        **proxy.environment(),
        **node.ENVIRONMENT,
        pipeline.table_env: moto.table("pk", "sk"),
        pipeline.queue_env: proxy.queue_url(moto.queue()),
    }
    ids = iter(range(10**6))

    def event() -> object:
        return event_for(pipeline, pipeline.body(f"id-{next(ids)}", {"n": 1}), "r")

    for spare in (True, False):
        runner = Runner(spare=spare)
        runner.start(node.command(handler, path.parent), env, str(path.parent))
        invoke_ms, reset_ms, swap_ms = [], [], []
        for _ in range(rounds):
            for _ in range(INVOCATIONS):
                started = time.perf_counter()
                runner.invoke(event())
                invoke_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            runner.reset()
            swap_ms.append((time.perf_counter() - started) * 1000)
            runner.invoke(event())
            reset_ms.append((time.perf_counter() - started) * 1000 - statistics.median(invoke_ms))
        runner.stop()
        print(
            f"spare={spare}: invocation median {statistics.median(invoke_ms):.1f} ms, "
            f"reset median {statistics.median(reset_ms):.1f} ms "
            f"(p90 {sorted(reset_ms)[int(len(reset_ms) * 0.9)]:.1f} ms; reset() itself "
            f"{statistics.median(swap_ms):.1f} ms, the rest is the first invocation's cold "
            f"start), {rounds} resets"
        )
    proxy.stop()
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
