"""The ``node`` runtime: queuecheck's own runner (``node_runner.mjs``, shipped with the
package) started by the ``node`` on PATH, which must be 18 or newer."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from model.harness.runtimes.process import RunnerError

OLDEST = 18
"""The oldest major version the runner needs (``process.getActiveResourcesInfo``, global
``fetch`` not needed); also the oldest Lambda still runs."""


ENVIRONMENT = {"AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true"}
"""Added to the handler's environment: the AWS SDK's warning about the node version is about
the node queuecheck runs here, not about the handler, and would fill every log with it."""


def runner_script() -> Path:
    """Where ``node_runner.mjs`` is (package data of ``model.harness.runtimes``)."""
    return Path(str(resources.files("model.harness.runtimes") / "node_runner.mjs"))


@functools.cache
def node(program: str = "node") -> str:
    """The path of a node that is new enough; ``RunnerError`` (one line) if there is none."""
    found = shutil.which(program)
    if found is None:
        raise RunnerError(
            f"the node runtime needs node {OLDEST} or newer on PATH (https://nodejs.org); "
            f"{program!r} was not found"
        )
    try:
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunnerError(f"cannot run {found} --version: {exc}") from None
    match = re.fullmatch(r"v(\d+)\.\d+\.\d+\S*", version)
    if match is None or int(match.group(1)) < OLDEST:
        raise RunnerError(
            f"the node runtime needs node {OLDEST} or newer; {found} is {version or 'unknown'}"
        )
    return found


def split_handler(handler: str) -> tuple[str, str]:
    """``PATH:EXPORT`` as its two parts (the export defaults to ``handler``)."""
    path, sep, export = handler.rpartition(":")
    if not sep:
        return handler, "handler"
    if not path or not export:
        raise RunnerError(f"handler {handler!r} must be PATH:EXPORT, e.g. intake.mjs:handler")
    return path, export


def command(handler: str, base: Path | str = ".", program: str = "node") -> list[str]:
    """The runner command for a pipeline file's ``handler = "PATH:EXPORT"``, PATH relative to
    ``base`` (the pipeline file's folder)."""
    path, export = split_handler(handler)
    return [node(program), str(runner_script()), str(Path(base, path).resolve()), export]


def main() -> None:
    """Say which node the runtime uses, or why there is none, in one line (``tox -e node``)."""
    try:
        found = node()
    except RunnerError as exc:
        print(f"queuecheck: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"queuecheck: the node runtime uses {found}")
