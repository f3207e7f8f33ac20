"""Mutation testing of the reference: how much of ``reference/`` does the harness alone guard?

    tox -e mutate                        # every mutant: about 2.6 h on 1 core (see mutation.md)
    tox -e mutate -- --sample 300        # a deterministic sample of 300 mutants (about 31 min)
    tox -e mutate -- --jobs 2            # two mutants at a time

DESIGN.md section 6 names the measure. The zoo (tests/stateful/zoo.py) proves the harness
catches twenty-one bugs someone thought of; mutation testing asks the converse: of all the small
changes a tool can make to the reference, which ones does the harness let through? Each
survivor is either equivalent (no behaviour visible from outside the handler changes) or a
gap in the harness, and benchmarks/mutation.md says which, survivor by survivor.

mutmut 3 does the work (pinned in tox.ini; configured in pyproject.toml, ``[tool.mutmut]``):
it writes every mutant of ``reference/`` into one trampolined copy under ``mutants/`` (never
into ``reference/``, so an interrupted run leaves the checkout as it was), runs the harness
once to warm up, then forks one child per mutant that runs only the harness
(``tests/stateful/test_reference_passes.py``, ``test_every_refusal.py`` and
``test_configuration.py``, ``-p no:xdist``)
on the ``ci`` profile with the mutant switched on. ``benchmarks/mutation_plugin.py`` keeps
the mutated files out of Hypothesis's pool of literals, so each mutant faces the same examples
as a ``tox`` run.

This script starts from an empty ``mutants/`` (results of an older reference or harness would
be stale), runs mutmut, and prints three lines to compare from run to run::

    mutants_total: N        every mutant tried, less the equivalent ones listed
    mutants_killed: N       the harness failed on it (a timeout counts: the handler hung)
    kill_rate: X%           killed over total

then how many equivalent mutants it excluded (``benchmarks/mutation_equivalent.txt``: one
mutant a line with its mutated line, so an entry that no longer names the same change is
reported as stale instead of excluding something else), and every survivor: file, line, and
the mutation as a diff line. Mutants that no test reached ("no tests": code the harness never
runs) are survivors too. The exit status is 0 unless something crashed: a figure, not a gate.

Nothing here reaches AWS: the harness runs in its sandbox (moto, fake credentials, real
endpoints refused), and tox.ini's ``[testenv:mutate]`` sets the same fake environment as every
other environment.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SOURCE = "reference"
MUTANTS = REPOSITORY / "mutants"
EQUIVALENT = Path(__file__).resolve().parent / "mutation_equivalent.txt"
KILLED = {"killed", "timeout"}


def _note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def _sources() -> list[Path]:
    return sorted((REPOSITORY / SOURCE).rglob("*.py"))


def all_mutant_names() -> list[str]:
    """Every mutant mutmut will make of ``reference/``, named as mutmut names them."""
    from mutmut.mutation.file_mutation import mutate_file_contents
    from mutmut.utils.format_utils import get_mutant_name

    names = []
    for path in _sources():
        relative = path.relative_to(REPOSITORY)
        mutated = mutate_file_contents(str(relative), path.read_text(encoding="utf-8"))
        names.extend(get_mutant_name(relative, name) for name in mutated.mutant_names)
    return sorted(names)


def sample(names: list[str], size: int) -> list[str]:
    """``size`` mutants chosen by a hash of their names: the same ones on every run, and a
    mutant keeps its place when others appear or go."""
    ranked = sorted(names, key=lambda name: hashlib.sha256(name.encode()).hexdigest())
    return sorted(ranked[:size])


def read_equivalent() -> dict[str, str]:
    """``benchmarks/mutation_equivalent.txt``: mutant name, a tab, its ``+`` diff line."""
    listed = {}
    for raw in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        name, _, line = raw.partition("\t")
        listed[name.strip()] = line.strip()
    return listed


def _statuses() -> dict[str, str]:
    from mutmut.stats import status_by_exit_code

    found = {}
    for meta in sorted((MUTANTS / SOURCE).rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in data["exit_code_by_key"].items():
            if code is not None:
                found[name] = status_by_exit_code[code]
    return found


def _function_start(source: str, name: str) -> int:
    """The first line (its first decorator's, if any) of the function a mutant changes."""
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    function, class_name = orig_function_and_class_names_from_key(name)
    function = function.rpartition(".")[2]
    scope = ast.parse(source).body
    if class_name:
        classes = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == class_name]
        scope = classes[0].body if classes else []
    for node in scope:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            return min([node.lineno] + [d.lineno for d in node.decorator_list])
    return 0


def describe(name: str) -> tuple[str, int, str, str]:
    """File, line, the ``-`` line and the ``+`` line of a mutant (from mutmut's own diff)."""
    from mutmut.mutation import diff_apply

    path = str(diff_apply.find_mutant(name).path)
    diff = diff_apply.get_diff_for_mutant(name, path=path).splitlines()
    start = _function_start((REPOSITORY / path).read_text(encoding="utf-8"), name)
    line, old, new, cursor = 0, "", "", 0
    for text in diff[2:]:
        hunk = re.match(r"@@ -(\d+)", text)
        if hunk:
            cursor = int(hunk.group(1))
            continue
        if text.startswith("-") and not old:
            old, line = text, cursor
        elif text.startswith("+") and not new:
            new = text
        if not text.startswith("+"):
            cursor += 1
    if not new:
        new = "+" + " " * (len(old) - len(old[1:].lstrip())) + "(line removed)"
    return path, (start + line - 1 if start and line else line), old, new


def run_mutmut(names: list[str], jobs: int) -> int:
    command = [shutil.which("mutmut") or "mutmut", "run", "--max-children", str(jobs), *names]
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    MUTANTS.mkdir(exist_ok=True)
    with open(MUTANTS / "run.log", "w", encoding="utf-8") as log:
        return subprocess.call(command, cwd=REPOSITORY, env=env, stdout=log, stderr=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, metavar="N", help="a deterministic sample of N")
    parser.add_argument("--jobs", type=int, default=1, help="mutants at a time (default 1)")
    parser.add_argument(
        "--report-only", action="store_true", help="summarise the results in mutants/ again"
    )
    args = parser.parse_args(argv)

    names = all_mutant_names()
    chosen = sample(names, args.sample) if args.sample else names
    started = time.monotonic()
    if not args.report_only:
        shutil.rmtree(MUTANTS, ignore_errors=True)
        _note(f"mutmut on {len(chosen)} of {len(names)} mutants, {args.jobs} at a time")
        # Naming no mutant runs them all; naming them runs only those.
        code = run_mutmut(chosen if args.sample else [], args.jobs)
        if code != 0:
            _note(f"mutmut exited {code}: see mutants/run.log")
            return code
    statuses = {name: status for name, status in _statuses().items() if name in set(chosen)}
    missing = len(set(chosen) - set(statuses))
    if missing:
        _note(f"{missing} chosen mutants have no result (interrupted?)")

    equivalent = read_equivalent()
    excluded, stale = [], []
    survivors = []
    for name in sorted(statuses):
        if name in equivalent:
            _, _, _, new = describe(name)
            if new.strip() == equivalent[name]:
                excluded.append(name)
                continue
            stale.append(name)
        if statuses[name] not in KILLED:
            survivors.append(name)
    total = len(statuses) - len(excluded)
    killed = sum(1 for name in statuses if name not in excluded and statuses[name] in KILLED)
    rate = 100.0 * killed / total if total else 0.0
    print(f"mutants_total: {total}")
    print(f"mutants_killed: {killed}")
    print(f"kill_rate: {rate:.1f}%")
    print(
        f"excluded {len(excluded)} equivalent mutants listed in "
        f"{EQUIVALENT.relative_to(REPOSITORY)}; {len(names)} mutants in all, "
        f"{len(statuses)} tried, {time.monotonic() - started:.0f} s"
    )
    for name in stale:
        print(f"stale entry in {EQUIVALENT.name}: {name} is no longer that change, so counted")
    if survivors:
        print(f"survivors ({len(survivors)}):")
    for name in survivors:
        path, line, old, new = describe(name)
        note = "" if statuses[name] == "survived" else f"  [{statuses[name]}]"
        print(f"  {path}:{line}  {name}{note}")
        print(f"      {old.strip()}")
        print(f"      {new.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
