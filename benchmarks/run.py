"""queuecheck benchmarks: what the harness costs, how it scales, and how fast it catches bugs.

    tox -e bench                        # everything, HYPOTHESIS_PROFILE=ci: about 5 min on 2 cores
    tox -e bench -- --quick             # 1 seed, fast suites for xdist: about 2 minutes
    tox -e bench -- --profile 30        # also profile a ci run of the reference machine

DESIGN.md section 6 asks for numbers, not a feeling: the bare cost of a submit on moto, the
harness's cost per step and its overhead over the bare handler, the speedup of
``pytest -n auto``, and how long the harness takes to catch each broken handler of the zoo.
One run measures all of them on the same machine at the same time, so they can be compared
with each other, and prints a table (how each figure was made) followed by seven
``name: value`` lines, then steps per second on each backend, meant to be compared from run to
run. Figures are printed, never judged: the exit status is 0 unless something crashed.

Nothing here reaches AWS: everything runs in queuecheck's sandbox (moto, fake credentials,
real endpoints refused), as the harness itself does.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib
import io
import logging
import multiprocessing
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
QUIET_LOGGERS = ("queuecheck.reference",)
RESET_EVERY = 25  # = the ci profile's stateful_step_count: bare queues never outgrow the harness's


def _quiet() -> None:
    """The reference logs every failure it answers; thousands of lines would bury the table."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Hypothesis prints failing runs and the handler may print; the figures are the output."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _note(text: str) -> None:
    """Progress on stderr, so a long run shows it is alive without mixing into the figures."""
    print(f"# {text}", file=sys.stderr, flush=True)


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _keep_own_literals_out() -> bool:
    """Hide this script's source from Hypothesis's pool of literals; False if that failed.

    Hypothesis mixes short strings and numbers found in "local" modules into what it
    generates. In CI that pool is empty (the package is installed, and tests are excluded),
    but this script is local: without this, rewording a label in the table would change
    which examples the harness tries, and so the detection times it reports. Marking the
    module as already scanned uses a private name of Hypothesis, so it is checked."""
    from hypothesis.internal.conjecture import providers

    seen = getattr(providers, "_seen_modules", None)
    if not isinstance(seen, set):
        return False
    seen.add(id(sys.modules[__name__]))
    return True


def _ci_settings(**changes: Any) -> Any:
    from hypothesis import settings

    return settings(settings.get_profile("ci"), **changes)


# -- 1. the bare handler, between the harness's examples -----------------------------------


class BareSubmits:
    """Milliseconds per submit of the reference handler on moto, with no harness around it.

    Each submit is a new message (PutItem, SendMessage, UpdateItem: the handler's full path),
    called directly as Lambda would call it, on a freshly reset sandbox every BLOCK submits:
    moto's SendMessage slows as the queue grows (DESIGN.md 3), and a harness example's queue
    stays small too. The blocks run between the harness's examples (after each teardown; the
    next example resets the sandbox again). Why: this machine's speed drifts by a quarter
    within seconds, and only measurements taken in the same time window make a ratio mean
    anything. Resets are not timed; the blocks' time is taken out of the harness's.
    """

    BLOCK = 3

    def __init__(self, handler: Callable[..., Any], wanted: int) -> None:
        from model.harness.sandbox import start

        self.handler, self.wanted, self.sandbox = handler, wanted, start()
        self.times: list[float] = []
        self.seconds = 0.0

    def block(self, count: int | None = None) -> None:
        from model.core.events import submit_event
        from model.harness.driver import LambdaContext

        started = time.perf_counter()
        count = min(count or self.BLOCK, self.wanted - len(self.times))
        self.sandbox.reset()
        os.environ.update(self.sandbox.environment)
        for _ in range(count):
            request_id = f"bare-{len(self.times)}"
            message = {"type": "order.created", "payload": {"n": 1}, "messageId": request_id}
            event = submit_event(message, request_id=request_id)
            submitted = time.perf_counter()
            answer = self.handler(event, LambdaContext(request_id))
            self.times.append(1000 * (time.perf_counter() - submitted))
            if answer.get("statusCode") != 202:
                raise RuntimeError(f"bare submit {request_id} answered {answer!r}")
        self.sandbox.reset()
        self.seconds += time.perf_counter() - started

    def complete(self) -> list[float]:
        """Top up with blocks after the run if it had too few examples."""
        while len(self.times) < self.wanted:
            self.block(RESET_EVERY)
        return self.times


# -- 2. the harness on the reference ------------------------------------------------------


class _TimedHandler:
    """The handler under test, timing its outermost invocations (a competing invocation run by
    a race happens inside another one and is not counted twice)."""

    def __init__(self, handler: Callable[..., Any], totals: dict[str, float]) -> None:
        self.handler, self.totals, self.depth = handler, totals, 0

    def __call__(self, event: Any, context: Any) -> Any:
        self.depth += 1
        started = time.perf_counter()
        try:
            return self.handler(event, context)
        finally:
            self.depth -= 1
            if self.depth == 0:
                self.totals["handler"] += time.perf_counter() - started


def timed_machine(
    handler: Callable[..., Any], between: Callable[[], None] | None = None
) -> tuple[type[Any], dict[str, Any]]:
    """The reference's state machine, instrumented to time each step from the outside.

    A step runs from the end of the previous step's invariant checks to the end of its own:
    Hypothesis choosing the rule and drawing its arguments, the rule (building the request,
    calling the handler, observing table and queue, the model's bookkeeping) and every
    invariant. ``STATS`` deltas say what the step did: submissions, handler invocations,
    injected faults and races. Setup and teardown (liveness) are timed as a whole.
    ``between`` runs after each passing example's teardown, outside every timing.
    """
    from model.harness.intake import contract_intake
    from model.harness.machine import STATS, machine_for

    totals = dict.fromkeys(("setup", "teardown", "handler", "observing", "checking"), 0.0)
    base = machine_for(contract_intake(_TimedHandler(handler, totals)))
    record: dict[str, Any] = {"steps": [], "totals": totals}

    class Timed(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            started = time.perf_counter()
            super().__init__()
            self._first = True
            totals["setup"] += time.perf_counter() - started
            self._mark()

        def _mark(self) -> None:
            self._started = time.perf_counter()
            self._counts = (
                STATS.submit_steps,
                STATS.invocations,
                sum(STATS.injected.values()),
                totals["handler"],
                totals["observing"],
            )
            self._statuses: list[int | None] = []

        def observe(self) -> Any:
            started = time.perf_counter()
            try:
                return super().observe()
            finally:
                totals["observing"] += time.perf_counter() - started

        def invoke(self, event: Any, sent: Any, label: str, **detail: Any) -> Any:
            answer = super().invoke(event, sent, label, **detail)
            if hasattr(self, "_statuses"):
                self._statuses.append(answer.status)
            return answer

        def check_invariants(self, settings: Any, output: Any, runtimes: Any) -> None:
            checking = time.perf_counter()
            super().check_invariants(settings, output, runtimes)
            ended = time.perf_counter()
            totals["checking"] += ended - checking
            if not self._first:  # the first call checks the fresh machine, before any step
                submits, invocations, injected, in_handler, observing = self._counts
                record["steps"].append(
                    {
                        "seconds": ended - self._started,
                        "submits": STATS.submit_steps - submits,
                        "invocations": STATS.invocations - invocations,
                        "injected": sum(STATS.injected.values()) - injected,
                        "in_handler": totals["handler"] - in_handler,
                        "observing": totals["observing"] - observing,
                        "checking": ended - checking,
                        "statuses": list(self._statuses),
                    }
                )
            self._first = False
            self._mark()

        def teardown(self) -> None:
            started = time.perf_counter()
            try:
                super().teardown()
            finally:
                totals["teardown"] += time.perf_counter() - started
            if between is not None and not self.failed:
                between()

    # The ci profile's fixed seed comes from a digest of the test, which includes the machine
    # class's source (found by name): named as the machine it wraps, the timed machine runs
    # exactly the examples ``tox`` runs, not others.
    Timed.__name__, Timed.__qualname__, Timed.__module__ = (
        base.__name__,
        base.__qualname__,
        base.__module__,
    )
    return Timed, record


def harness_run(handler: Callable[..., Any], bare: BareSubmits | None = None) -> dict[str, Any]:
    """One run of the reference machine under the ci profile, as ``tox`` runs it (with bare
    submit blocks between its examples, their time taken out)."""
    from hypothesis.stateful import run_state_machine_as_test

    from model.harness.machine import STATS

    machine, record = timed_machine(handler, bare.block if bare is not None else None)
    STATS.reset()
    started = time.perf_counter()
    with _silenced():
        run_state_machine_as_test(machine, settings=_ci_settings())
    seconds = time.perf_counter() - started - (bare.seconds if bare is not None else 0.0)
    return {
        "seconds": seconds,
        "examples": STATS.examples,
        "steps": STATS.steps,
        "invocations": STATS.invocations,
        "submit_steps": STATS.submit_steps,
        "seconds_in_submits": STATS.seconds_in_submits,
        "timed": record["steps"],
        "totals": record["totals"],
    }


def plain_submit_steps(timed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps that made the calls a bare submit makes: one new message accepted (202), one
    invocation, nothing injected. Comparing these with bare submits compares like with like
    (but for Hypothesis's richer payloads); faults, races, duplicates and conflicts change the
    handler's own work."""
    return [
        step
        for step in timed
        if step["submits"] == 1
        and step["invocations"] == 1
        and step["injected"] == 0
        and step["statuses"] == [202]
    ]


# -- 3. pytest -n 0 against pytest -n auto ------------------------------------------------


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pytest_wall(
    paths: Sequence[str], workers: str, junit: Path | None
) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (the process and its workers), exit status and summary line
    of one pytest run in a fresh process."""
    command = [sys.executable, "-m", "pytest", *paths, "-n", workers, "-q"]
    if junit is not None:
        command += ["--junitxml", str(junit)]
    environment = {**os.environ, "HYPOTHESIS_PROFILE": "ci"}
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(
        command,
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return seconds, cpu, done.returncode, lines[-1].strip("= ") if lines else "(no output)"


def junit_durations(junit: Path) -> list[float]:
    try:
        tree = ET.parse(junit)  # our own pytest's report
    except (OSError, ET.ParseError):
        return []
    return [float(case.get("time", 0)) for case in tree.iter("testcase")]


def best_schedule(durations: Sequence[float], workers: int) -> float:
    """The makespan of longest-first scheduling: what no worker count can beat for this suite."""
    loads = [0.0] * max(1, workers)
    for duration in sorted(durations, reverse=True):
        loads[loads.index(min(loads))] += duration
    return max(loads)


# -- 4. time to detect each broken variant -------------------------------------------------


def _zoo() -> Any:
    tests = str(REPOSITORY / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return importlib.import_module("stateful.zoo")


def detect(task: tuple[str, int]) -> dict[str, Any]:
    """Seconds until the harness fails on one broken variant with one seed, shrinking included
    (the user sees the failure only once it is shrunk). Runs in a worker process."""
    from hypothesis import seed
    from hypothesis.stateful import run_state_machine_as_test

    from model.harness.machine import LAST_FAILURE, STATS, machine_for

    variant, number = task
    first: list[float] = []
    base = machine_for(getattr(_zoo(), variant))

    class Watched(base):  # type: ignore[misc, valid-type]
        def fail(self, invariant_name: str, problems: list[str]) -> None:
            if not first:
                first.append(time.perf_counter())
            super().fail(invariant_name, problems)

    def factory() -> Any:
        return Watched()

    seed(number)(factory)
    STATS.reset()
    LAST_FAILURE.invariant = ""
    caught = ""
    started, cpu = time.perf_counter(), time.process_time()
    with _silenced():
        try:
            run_state_machine_as_test(
                factory, settings=_ci_settings(derandomize=False, database=None)
            )
        except Exception as failure:  # any failure is a detection
            caught = LAST_FAILURE.invariant or type(failure).__name__
    ended = time.perf_counter()
    return {
        "variant": variant,
        "seed": number,
        "seconds": ended - started,
        "cpu": time.process_time() - cpu,
        "first": (first[0] - started) if first else None,
        "caught": caught,
        "examples": STATS.examples,
    }


def detection(variants: Sequence[str], seeds: int, jobs: int) -> list[dict[str, Any]]:
    """Every (variant, seed) in worker processes, ``jobs`` at a time, one core each. Forked
    after the sandbox has started, so each worker owns a private copy of moto."""
    tasks = [(variant, number) for number in range(seeds) for variant in variants]
    context = multiprocessing.get_context("fork")
    # A fresh worker per run, as a user's run is a fresh process: a worker that had run
    # dozens before carried their garbage, and spent up to half as long again per example.
    gc.collect()
    gc.freeze()  # the parent's heap, shared by every fork, is not scanned in the workers
    try:
        with context.Pool(jobs, initializer=_quiet, maxtasksperchild=1) as pool:
            return list(pool.imap_unordered(detect, tasks, chunksize=1))
    finally:
        gc.unfreeze()  # the bench goes on: its own garbage is collected again


# -- 5. where the harness spends its time --------------------------------------------------


PROFILE_PARTS = (
    # (what, file suffix, function): cumulative time of each; indented parts are inside the
    # line above, and the handler's calls are inside liveness too
    ("handler invocations", "model/harness/machine.py", "call"),
    ("  moto UpdateItem", "moto/dynamodb/responses.py", "update_item"),
    ("    parsing UpdateExpression", "moto/dynamodb/parsing/expressions.py", "make"),
    ("  moto PutItem", "moto/dynamodb/responses.py", "put_item"),
    ("  moto GetItem", "moto/dynamodb/responses.py", "get_item"),
    ("  moto SendMessage", "moto/sqs/responses.py", "send_message"),
    ("  botocore SigV4 signing", "botocore/signers.py", "sign"),
    ("  botocore user agent", "botocore/useragent.py", "to_string"),
    ("  moto request setup", "moto/core/responses.py", "setup_class"),
    ("liveness (teardown)", "model/harness/machine.py", "teardown"),
    ("Hypothesis drawing steps", "hypothesis/stateful.py", "do_draw"),
    ("observing table and queue", "model/harness/machine.py", "observe"),
    ("  items(): moto items as plain values", "model/harness/sandbox.py", "items"),
    ("  messages()", "model/harness/sandbox.py", "messages"),
    ("QueueMessage.body (JSON parse)", "model/core/observed.py", "body"),
    ("invariants (hold)", "model/harness/machine.py", "hold"),
    ("other actors' AWS calls: advance", "model/harness/machine.py", "advance"),
    ("other actors' AWS calls: expire", "model/harness/machine.py", "expire"),
    ("other actors' AWS calls: annotate", "model/harness/machine.py", "annotate"),
    ("per-example setup (machine __init__)", "model/harness/machine.py", "__init__"),
    ("boto3 client creation", "botocore/session.py", "create_client"),
)


def profile_harness(handler: Callable[..., Any], top: int) -> str:
    """cProfile of a ci run of the reference machine, summed into the costs worth naming (the
    candidates for optimisation, each as a share of the run), then the top functions by own
    time. cProfile slows everything ~2.5x and the handler's many small calls most: compare
    shares, and check any gain without the profiler (the table above)."""
    from hypothesis.stateful import run_state_machine_as_test

    from model.harness.machine import machine_for

    profiler = cProfile.Profile()
    with _silenced():
        profiler.enable()
        run_state_machine_as_test(machine_for(handler), settings=_ci_settings())
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    entries: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    lines = [f"profile of one ci run: {stats.total_tt:.1f} s under cProfile", ""]  # type: ignore[attr-defined]
    lines.append(f"{'cost':<40} {'seconds':>8} {'share':>6} {'calls':>7}")
    for what, suffix, function in PROFILE_PARTS:
        found = [
            (value[3], value[1])
            for (filename, _, name), value in entries.items()
            if name == function and filename.replace("\\", "/").endswith(suffix)
        ]  # the outermost of same-named functions: nested ones would count twice
        seconds, calls = max(found, default=(0.0, 0))
        share = seconds / stats.total_tt  # type: ignore[attr-defined]
        lines.append(f"{what:<40} {seconds:>8.2f} {share:>6.1%} {calls:>7}")
    stats.sort_stats("tottime").print_stats(top)
    return "\n".join(lines) + "\n" + out.getvalue()


# -- the report ------------------------------------------------------------------------------


def _row(name: str, value: str, how: str) -> str:
    return f"| {name} | {value} | {how} |"


def bare_rows(bare: list[float]) -> tuple[float, list[str]]:
    median = statistics.median(bare)
    return median, [
        _row(
            "bare submit",
            f"{median:.2f} ms median (p10 {_percentile(bare, 0.1):.2f}, "
            f"p90 {_percentile(bare, 0.9):.2f})",
            f"{len(bare)} new messages through reference.handler.lambda_handler on moto, no "
            f"harness code around it, in blocks of {BareSubmits.BLOCK} on a freshly reset "
            "sandbox (resets untimed) run between the harness run's examples, so that both "
            "sides of the overhead ratio see the same machine",
        )
    ]


def harness_rows(harness: dict[str, Any], bare_ms: float) -> tuple[dict[str, float], list[str]]:
    seconds, totals, timed = harness["seconds"], harness["totals"], harness["timed"]
    submit_steps = [step for step in timed if step["submits"]]
    plain = plain_submit_steps(timed)

    def mean_ms(key: str, steps: list[dict[str, Any]]) -> float:
        return 1000 * statistics.mean(step[key] for step in steps) if steps else float("nan")

    plain_median = (
        statistics.median(1000 * step["seconds"] for step in plain) if plain else float("nan")
    )
    parts = {key: mean_ms(key, plain) for key in ("seconds", "in_handler", "observing", "checking")}
    rest = parts["seconds"] - parts["in_handler"] - parts["observing"] - parts["checking"]
    elsewhere = seconds - totals["handler"] - totals["observing"] - totals["checking"]
    examples = max(1, harness["examples"])
    figures = {
        "ms_per_step": 1000 * seconds / max(1, harness["steps"]),
        "steps_per_s": harness["steps"] / seconds,
        "overhead_ratio": plain_median / bare_ms,
    }
    rows = [
        _row(
            "harness run",
            f"{seconds:.1f} s: {harness['examples']} examples, {harness['steps']} steps, "
            f"{harness['invocations']} invocations",
            "run_state_machine_as_test(machine_for(reference handler)) on the ci profile; "
            "steps are STATS.steps (every line of every story, liveness retries included)",
        ),
        _row(
            "  where it goes",
            f"handler {totals['handler']:.1f} s, observing {totals['observing']:.1f} s, "
            f"invariants {totals['checking']:.1f} s, everything else {elsewhere:.1f} s",
            "handler: every invocation (liveness retries included); invariants: the checks "
            "after each step; everything else: Hypothesis generating, other actors' AWS calls, "
            "the model's bookkeeping",
        ),
        _row(
            "  per example",
            f"setup {1000 * totals['setup'] / examples:.1f} ms, teardown "
            f"{1000 * totals['teardown'] / examples:.1f} ms",
            "IntakeMachine.__init__ (sandbox reset, first observation) and teardown (liveness: "
            "retrying what failed, handler calls included)",
        ),
        _row(
            "harness per step",
            f"{figures['ms_per_step']:.2f} ms ({figures['steps_per_s']:.0f} steps/s)",
            "the run's wall time over STATS.steps: setup, generation, handler, observing, "
            "invariants, liveness and Hypothesis's own work all included",
        ),
        _row(
            "submit step, plain",
            f"{plain_median:.2f} ms median over {len(plain)} steps; mean {parts['seconds']:.2f}"
            f" = handler {parts['in_handler']:.2f} + observing {parts['observing']:.2f} + "
            f"invariants {parts['checking']:.2f} + the rest {rest:.2f}",
            "a step's wall time runs from the end of the previous step's invariant checks to "
            "the end of its own; plain: one new message submitted and answered 202, nothing "
            "injected (the bare submit's three AWS calls, with a generated payload); the rest: "
            "Hypothesis drawing the rule and its arguments, building the request, the model's "
            "bookkeeping",
        ),
        _row(
            "submit step, any",
            f"{mean_ms('seconds', submit_steps):.2f} ms mean over {len(submit_steps)} steps, "
            f"{1000 * harness['seconds_in_submits'] / max(1, harness['submit_steps']):.2f} ms "
            "of it in the handler",
            "every step that submitted (faults, races, duplicates, conflicts too); the handler "
            "part is STATS.seconds_in_submits / STATS.submit_steps",
        ),
        _row(
            "overhead ratio",
            f"{figures['overhead_ratio']:.2f}",
            f"plain submit step median / bare submit median (goal <= 1.3); the same with "
            f"each plain step's own handler time as the denominator: "
            f"{parts['seconds'] / parts['in_handler']:.2f} (means)",
        ),
    ]
    return figures, rows


def xdist_rows(paths: Sequence[str]) -> tuple[float, list[str]]:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        junit = Path(folder) / "serial.xml"
        serial, serial_cpu, serial_exit, serial_summary = pytest_wall(paths, "0", junit)
        durations = junit_durations(junit)
    parallel, parallel_cpu, parallel_exit, parallel_summary = pytest_wall(paths, "auto", None)
    bound = sum(durations) / best_schedule(durations, cores) if durations else float("nan")
    command = f"python -m pytest {' '.join(paths)}"
    return serial / parallel, [
        _row(
            "pytest -n 0",
            f"{serial:.1f} s, cpu {serial_cpu:.1f} s (exit {serial_exit}: {serial_summary})",
            f"{command} -n 0, HYPOTHESIS_PROFILE=ci, in a fresh process: wall time, and the CPU "
            "time of pytest and everything it started",
        ),
        _row(
            "pytest -n auto",
            f"{parallel:.1f} s, cpu {parallel_cpu:.1f} s: {parallel_cpu / parallel:.2f} cores "
            f"busy (exit {parallel_exit}: {parallel_summary})",
            f"{command} -n auto ({cores} cpus); speedup = -n 0 / -n auto (goal >= 1.6); "
            f"cores busy below {cores}: workers waited, or other processes had the cores",
        ),
        _row(
            "  scheduling bound",
            f"{bound:.2f}x",
            f"the best speedup {cores} workers could reach with these tests whole: sum of the "
            f"-n 0 test durations over their longest-first makespan (longest test "
            f"{max(durations, default=0):.1f} s of {sum(durations):.1f} s)",
        ),
    ]


def detection_rows(results: list[dict[str, Any]], seeds: int) -> tuple[float, list[str]]:
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_variant.setdefault(result["variant"], []).append(result)
    medians = {
        variant: statistics.median(result["seconds"] for result in runs)
        for variant, runs in by_variant.items()
    }
    rows = []
    for variant in sorted(by_variant, key=lambda name: -medians[name]):
        runs = by_variant[variant]
        missed = sum(1 for run in runs if not run["caught"])
        firsts = [run["first"] for run in runs if run["first"] is not None]
        caught_by = sorted({run["caught"] for run in runs if run["caught"]})
        value = f"median {medians[variant]:.1f} s, max {max(r['seconds'] for r in runs):.1f} s"
        value += f" (cpu {statistics.median(run['cpu'] for run in runs):.1f} s"
        if firsts:
            value += f", first failure after {statistics.median(firsts):.1f} s"
        value += ")"
        if missed:
            value += f", MISSED by {missed} of {len(runs)} seeds"
        examples = statistics.median(run["examples"] for run in runs)
        rows.append(
            _row(
                f"detect {variant}",
                value,
                f"{examples:.0f} examples (median); caught by {', '.join(caught_by) or 'nothing'}",
            )
        )
    rows.insert(
        0,
        _row(
            "detection",
            f"slowest: {max(medians, key=lambda name: medians[name])}",
            f"per variant, seed{'s 0..' if seeds > 1 else ' '}{seeds - 1}: the ci profile with "
            "derandomize=False and "
            "@seed(n), until the harness fails, shrinking included (the failure is shown only "
            "once shrunk); cpu: the worker's CPU seconds (a wall time well above it: the worker "
            "waited for a core); first failure: when the first invariant broke",
        ),
    )
    return max(medians.values()), rows


# -- 5. the same harness on each backend -----------------------------------------------------

BACKEND_EXAMPLES = 40


NODE_EXAMPLE = REPOSITORY / "examples" / "node" / "parcels_rest.toml"
"""A correct node intake: the out-of-process runtime's speed is measured on it."""


def backend_steps_per_s(backend: str) -> float:
    """Steps per second of ``queuecheck-verify`` on the reference, ci profile, 40 examples, on
    ``backend``, in a fresh process (the sandbox is one per process); ``node``: on a correct
    node intake (``NODE_EXAMPLE``) over moto's server. nan if it cannot run."""
    from model.harness import backends

    command = [sys.executable, "-m", "model.entrypoints.verify", "--profile", "ci"]
    command += ["--max-examples", str(BACKEND_EXAMPLES)]
    if backend == "node":
        if not (NODE_EXAMPLE.parent / "node_modules").is_dir():
            _note("node: examples/node has no node_modules (npm ci --prefix examples/node)")
            return float("nan")
        command += ["--pipeline", str(NODE_EXAMPLE), "--backend", "moto-server"]
    elif backends.refused(backend):
        return float("nan")
    else:
        command += ["--backend", backend]
    done = subprocess.run(
        command, cwd=REPOSITORY, capture_output=True, text=True, check=False, env=os.environ
    )
    for line in done.stdout.splitlines():
        if line.strip().startswith("steps per second:"):
            return float(line.split(":", 1)[1].split()[0])
    _note(f"{backend}: no report ({done.stderr.strip().splitlines()[-1:]})")
    return float("nan")


BACKENDS = ("moto", "moto-server", "dynalite", "node")


def backend_rows() -> tuple[dict[str, float], list[str]]:
    speeds = {name: backend_steps_per_s(name) for name in BACKENDS}
    rows = [
        _row(
            f"steps/s on {name}",
            f"{speed:.0f}" + ("" if name == "moto" else f" ({speeds['moto'] / speed:.1f}x slower)"),
            f"queuecheck-verify --profile ci --max-examples {BACKEND_EXAMPLES} --backend {name}, "
            "its own process"
            if name != "node"
            else f"queuecheck-verify --pipeline examples/node/parcels_rest.toml --profile ci "
            f"--max-examples {BACKEND_EXAMPLES} (moto-server; against moto-server's "
            f"{speeds['moto-server']:.0f}: {speed / speeds['moto-server']:.2f})",
        )
        for name, speed in speeds.items()
    ]
    return speeds, rows


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed; pytest -n on the fast suites")
    parser.add_argument("--submits", type=int, help="bare submits (default 300)")
    parser.add_argument("--seeds", type=int, help="seeds per variant (default 5)")
    parser.add_argument("--variants", default="", help="comma-separated zoo variants (all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="detection workers")
    parser.add_argument("--xdist-paths", nargs="*", help="for pytest -n (default tests/stateful)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile: top N")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated: detection, xdist, backends (their lines then print nan)",
    )
    args = parser.parse_args(argv)
    args.skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    args.submits = args.submits or 300
    args.seeds = args.seeds or (1 if args.quick else 5)
    quick_paths = ["tests/injection", "tests/intake", "tests/scenarios"]
    args.xdist_paths = args.xdist_paths or (quick_paths if args.quick else ["tests/stateful"])
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    submits, seeds, paths, skip = args.submits, args.seeds, args.xdist_paths, args.skip

    from hypothesis import settings

    from model.harness import profiles
    from model.harness.driver import load_handler
    from model.harness.sandbox import start

    began, load_before = time.perf_counter(), os.getloadavg()[0]
    if not _keep_own_literals_out():
        _note("WARNING: Hypothesis may draw literals from this script; figures may drift")
    profiles.load("ci")
    start()
    _quiet()
    handler = load_handler("reference.handler:lambda_handler")
    variants = [name for name in args.variants.split(",") if name] or sorted(_zoo().VARIANTS)

    _note(f"harness: the reference machine on the ci profile, and {submits} bare submits")
    bare = BareSubmits(handler, submits)
    bare.block()  # a warm-up: the first calls pay for lazy imports and client creation
    bare.times.clear()
    harness = harness_run(handler, bare)
    bare_ms, rows = bare_rows(bare.complete())
    figures, more = harness_rows(harness, bare_ms)
    rows += more
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    slowest, speedup = float("nan"), float("nan")
    if "detection" not in skip:
        _note(f"detection: {len(variants)} variants x {seeds} seeds, {args.jobs} at a time")
        slowest, detected = detection_rows(detection(variants, seeds, max(1, args.jobs)), seeds)
    if "xdist" not in skip:
        _note(f"xdist: pytest {' '.join(paths)} with -n 0, then with -n auto")
        speedup, more = xdist_rows(paths)
        rows += more
    if "detection" not in skip:
        rows += detected
    speeds = dict.fromkeys(BACKENDS, float("nan"))
    if "backends" not in skip:
        _note("backends: the reference on in-process moto, moto's server and dynalite; node")
        speeds, more = backend_rows()
        rows += more
    rows.append(
        _row(
            "peak RSS",
            f"{peak_rss_mb:.0f} MB",
            "ru_maxrss of this process after the bare and harness runs (detection and pytest "
            "run in other processes)",
        )
    )
    ci = settings.get_profile("ci")
    header = (
        f"queuecheck benchmarks: profile ci (max_examples={ci.max_examples}, "
        f"stateful_step_count={ci.stateful_step_count}), python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cpus, load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after, {time.perf_counter() - began:.0f} s in all"
    )
    figures_lines = [
        f"bare_ms_per_submit: {bare_ms:.2f}",
        f"harness_ms_per_step: {figures['ms_per_step']:.2f}",
        f"steps_per_s: {figures['steps_per_s']:.0f}",
        f"overhead_ratio: {figures['overhead_ratio']:.2f}",
        f"xdist_speedup: {speedup:.2f}",
        f"detect_s_median_max: {slowest:.1f}",
        f"peak_rss_mb: {peak_rss_mb:.0f}",
        *(f"steps_per_s_{name.replace('-', '_')}: {speed:.0f}" for name, speed in speeds.items()),
    ]
    table = ["| measure | value | how it is measured |", "| --- | --- | --- |", *rows]
    print("\n".join([header, "", *table, "", *figures_lines]), flush=True)

    if args.profile:
        _note("profile: a ci run of the reference machine under cProfile")
        print()
        print(profile_harness(handler, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
