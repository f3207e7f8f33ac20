"""Hypothesis settings profiles, registered in one place and chosen by ``HYPOTHESIS_PROFILE``.

- ``ci``: what CI runs. Derandomized (a fixed seed), so a red build is the same red build
  on every rerun; enough examples to catch every broken variant in the zoo.
- ``dev``: quick feedback while working; random, so repeated runs explore more.
- ``thorough``: the main job (``tox -e verify``): many more examples and longer runs.

Deadlines are off: a step's time depends on moto and a shared machine, not on the handler's
correctness, and a timing failure would not be reproducible.

Every profile stops generating at the first failure (``report_multiple_bugs=False``): all of
the harness's failures are one ``AssertionError`` from one place, so Hypothesis would only
spend up to as many examples again looking for a "different" bug before shrinking, which
made the ci profile's time to a report up to twice as long without telling anyone more.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)

settings.register_profile(
    "ci",
    max_examples=100,
    stateful_step_count=25,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=SUPPRESSED,
    phases=PHASES,
)
settings.register_profile(
    "dev",
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=SUPPRESSED,
)
settings.register_profile(
    "thorough",
    max_examples=400,
    stateful_step_count=40,
    deadline=None,
    database=None,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=SUPPRESSED,
)


NAMES = ("ci", "dev", "thorough")

PATIENCE_ENV = "QUEUECHECK_PATIENCE_S"


def patience_s() -> float:
    """How long the harness waits for a handler that neither answers nor calls AWS before it
    calls it stuck (``handler_always_answers``): two invocations interleaved, one of which
    blocks the other, or an out-of-process handler that never answers. Seconds, not minutes:
    a calm invocation takes milliseconds. ``QUEUECHECK_PATIENCE_S`` sets it (default 10)."""
    text = os.environ.get(PATIENCE_ENV) or "10"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{PATIENCE_ENV}={text!r} is not a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{PATIENCE_ENV}={text!r} must be more than 0 seconds")
    return value


def current() -> str:
    """``HYPOTHESIS_PROFILE`` if set; else ``ci`` on CI (where ``CI`` is set), ``dev`` elsewhere."""
    return os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")


def load(name: str | None = None) -> str:
    """Activate a profile (default: ``HYPOTHESIS_PROFILE``, else ``dev``); return its name."""
    chosen = name or current()
    settings.load_profile(chosen)
    return chosen
