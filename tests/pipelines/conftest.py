"""The examples' handlers import by module name, as a user's would from PYTHONPATH.

They are imported here, at collection, and kept out of Hypothesis's pool of literals: Hypothesis
mixes short strings and numbers of "local" modules into what it draws, so otherwise a run
would depend on which examples the same process had imported before it (on test order, and
on how pytest-xdist spread the tests). benchmarks/run.py does the same for its own source.
"""

import importlib
import sys
from pathlib import Path

from hypothesis.internal.conjecture import providers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

_seen = getattr(providers, "_seen_modules", None)
assert isinstance(_seen, set), "Hypothesis moved _seen_modules: update tests/pipelines/conftest.py"
for _path in sorted(EXAMPLES.glob("*.py")):
    _seen.add(id(importlib.import_module(_path.stem)))
