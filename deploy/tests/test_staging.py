"""``lambda_bundle.stage`` on made-up reference folders: what it copies and what it refuses."""

from __future__ import annotations

import lambda_bundle
import pytest


@pytest.fixture
def reference(tmp_path):
    """A small reference package with the clutter a working checkout accumulates."""
    root = tmp_path / "reference"
    (root / "__pycache__").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "__init__.py").write_text('"""Package."""\n')
    (root / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (root / "py.typed").write_text("")
    (root / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00")
    (root / "stray.pyc").write_bytes(b"\x00")
    (root / "tests" / "test_handler.py").write_text("def test(): pass\n")
    (root / "conftest.py").write_text("")
    return root


def test_stage_copies_sources_and_skips_tests_and_bytecode(reference, tmp_path):
    """Sources and data files are copied; tests, ``conftest.py`` and bytecode are not."""
    dest = lambda_bundle.stage(reference, tmp_path / "out")
    copied = sorted(str(p.relative_to(dest / "reference")) for p in (dest / "reference").rglob("*"))
    assert copied == ["__init__.py", "handler.py", "py.typed"]


def test_stage_adds_attr_attrs_and_the_attrs_licence(reference, tmp_path):
    """``attr`` and ``attrs`` are importable from the bundle and their licence travels along."""
    dest = lambda_bundle.stage(reference, tmp_path / "out")
    (info,) = dest.glob("attrs-*.dist-info")
    assert (info / "licenses" / "LICENSE").is_file()
    assert not (info / "RECORD").exists()
    assert (dest / "attr" / "__init__.py").is_file()
    assert (dest / "attrs" / "__init__.py").is_file()
    assert list(dest.rglob("__pycache__")) == []


def test_stage_makes_every_file_readable_by_the_runtime(reference, tmp_path):
    """An owner-only source file is shipped world-readable (the runtime is another user)."""
    (reference / "handler.py").chmod(0o600)
    dest = lambda_bundle.stage(reference, tmp_path / "out")
    modes = {p.stat().st_mode & 0o777 for p in dest.rglob("*") if p.is_file()}
    assert modes == {0o644}
    assert (dest / "reference").stat().st_mode & 0o777 == 0o755


def test_stage_empties_the_destination_first(reference, tmp_path):
    """A file left from an earlier staging never reaches the asset."""
    dest = tmp_path / "out"
    (dest / "reference").mkdir(parents=True)
    (dest / "reference" / "deleted_module.py").write_text("")
    lambda_bundle.stage(reference, dest)
    assert not (dest / "reference" / "deleted_module.py").exists()


def test_stage_is_repeatable(reference, tmp_path):
    """Two stagings of the same sources hold the same files with the same bytes."""

    def tree(root):
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    first = lambda_bundle.stage(reference, tmp_path / "one")
    second = lambda_bundle.stage(reference, tmp_path / "two")
    assert tree(first) == tree(second)


def test_stage_refuses_a_reference_without_its_handler(tmp_path):
    """Without ``reference/handler.py`` there is no entry point, so nothing is staged."""
    empty = tmp_path / "reference"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"handler\.py"):
        lambda_bundle.stage(empty, tmp_path / "out")
    assert not (tmp_path / "out").exists()
