"""Fixtures for the scenario tests: the reference and the zoo's handlers, files to write."""

from __future__ import annotations

import importlib
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from model.harness.driver import DEFAULT_HANDLER, load_handler
from model.harness.sandbox import start

HEADER = 'name = "a scenario under test"\ndescription = "written by a test"\n'


@pytest.fixture(scope="session")
def reference_handler() -> Any:
    """The reference handler, whatever ``--handler`` says: scenarios must be green on it."""
    start()
    return load_handler(DEFAULT_HANDLER)


@pytest.fixture(scope="session")
def zoo() -> ModuleType:
    """The broken handlers of ``tests/stateful/zoo.py`` (imported after the sandbox started)."""
    start()
    return importlib.import_module("stateful.zoo")


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[..., Path]:
    """Writes TOML steps (after a valid name and description) to a file in ``tmp_path``."""

    def write(steps: str, name: str = "under_test.toml", header: str = HEADER) -> Path:
        path = tmp_path / name
        path.write_text(header + textwrap.dedent(steps), encoding="utf-8")
        return path

    return write
