"""pytest plugin for mutation runs (``benchmarks/mutation.py`` loads it): the mutant is live
from the reference's first line, and the mutated files stay out of Hypothesis's literal pool.

- mutmut forks every mutant's run from a process that has already imported the reference,
  and switches a mutant on per call of a function. ``reference/handler.py`` calls
  ``build_handler()`` at import, so ``lambda_handler`` (the route, the error handling, the
  wiring: all of it nested in ``build_handler``) would stay the original in every child and
  its mutants would survive unseen. So every ``reference`` module is forgotten when a session
  starts, and the ``handler`` fixture imports them anew with the mutant switched on.
- Hypothesis mixes short strings and numbers from "local" modules (not under site-packages)
  into what it draws. Under ``tox`` the reference is installed, so that pool holds nothing of
  it; under mutmut it is imported from ``mutants/reference/``, which is local and full of
  literals (every mutant's strings). Without this the harness would draw other examples than
  the ``ci`` run it is meant to measure. The modules are marked as already scanned once the
  fixtures have imported them, before the test draws anything (the same private name
  ``benchmarks/run.py`` and ``tests/pipelines/conftest.py`` use, checked here too).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from hypothesis.internal.conjecture import providers


def _reference_modules() -> dict[str, object]:
    return {
        name: module
        for name, module in list(sys.modules.items())
        if name == "reference" or name.startswith("reference.")
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    for name in _reference_modules():
        del sys.modules[name]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    seen = getattr(providers, "_seen_modules", None)
    assert isinstance(seen, set), "Hypothesis moved _seen_modules: update mutation_plugin.py"
    seen.update(id(module) for module in _reference_modules().values())
    yield
