"""The Lambda code asset: the reference package and attrs, and nothing else from the repo."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

DEPLOY_DIR = Path(__file__).resolve().parents[1]
REFERENCE_DIR = DEPLOY_DIR.parent / "reference"
# What the Lambda Python runtime brings: the AWS SDK and its dependencies.
LAMBDA_RUNTIME_PACKAGES = {
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "urllib3",
    "dateutil",
    "six",
}

# Imports the handler from the asset with the SDK's site-packages behind it (as on Lambda,
# where the runtime's boto3 comes after the function's code), answers one request that needs
# no AWS call, and reports where every loaded module came from. Run with -S: no .pth files.
SMOKE_SCRIPT = """
import json, sys
asset, site_packages = sys.argv[1:3]
sys.path[:0] = [asset]
sys.path.append(site_packages)
from reference.handler import lambda_handler
event = {"httpMethod": "GET", "path": "/elsewhere", "requestContext": {"requestId": "smoke"}}
answer = lambda_handler(event, None)
files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
print(json.dumps({"answer": answer, "files": files}))
"""


@pytest.fixture(scope="module")
def asset_dir(synthesized):
    """The staged asset folder in the cloud assembly, named by the hash in the template."""
    code = synthesized.resources[synthesized.logical_id(synthesized.stack.function)]
    key = code["Properties"]["Code"]["S3Key"]
    assert key.endswith(".zip")
    return synthesized.outdir / f"asset.{key.removesuffix('.zip')}"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_asset_holds_the_reference_and_attrs_only(asset_dir):
    """At the top of the asset: ``reference/``, ``attr/``, ``attrs/`` and attrs' dist-info."""
    top = {path.name for path in asset_dir.iterdir()}
    (dist_info,) = [name for name in top if name.endswith(".dist-info")]
    assert top == {"reference", "attr", "attrs", dist_info}
    assert dist_info.startswith("attrs-")
    assert (asset_dir / dist_info / "licenses" / "LICENSE").is_file()
    assert (asset_dir / "reference" / "handler.py").is_file()
    assert (asset_dir / "attrs" / "__init__.py").is_file()
    assert (asset_dir / "attr" / "__init__.py").is_file()


def test_asset_has_no_tests_model_or_bytecode(asset_dir):
    """Neither tests, nor the model, nor ``__pycache__`` or ``.pyc`` files are shipped."""
    names = {part for path in asset_dir.rglob("*") for part in path.relative_to(asset_dir).parts}
    assert names & {"tests", "model", "__pycache__", "conftest.py", "scenarios"} == set()
    assert list(asset_dir.rglob("*.pyc")) == []


def test_asset_reference_is_the_checkout_byte_for_byte(asset_dir):
    """Every source file of ``reference/`` is in the asset unchanged, and nothing is added."""
    source = {
        name: content
        for name, content in _tree(REFERENCE_DIR).items()
        if "__pycache__" not in Path(name).parts and not name.endswith(".pyc")
    }
    assert _tree(asset_dir / "reference") == source


def test_asset_attrs_is_the_installed_attrs(asset_dir):
    """The shipped attrs is the one this environment has installed (pinned by constraints)."""
    import attrs

    installed = _tree(Path(attrs.__file__).parent)
    shipped = _tree(asset_dir / "attrs")
    assert shipped == {k: v for k, v in installed.items() if "__pycache__" not in k}


def test_asset_answers_a_request_with_only_the_runtime_behind_it(asset_dir):
    """From the asset alone (plus the SDK the Lambda runtime provides) the handler imports
    and answers: an unknown path is a 404 NOT_FOUND, without any AWS call.

    Every module it loads comes from the asset, the standard library or the runtime's SDK,
    and attrs comes from the asset: a new third-party import in the reference fails here.
    """
    site_packages = Path(sysconfig.get_paths()["purelib"])
    standard_library = {Path(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib")}
    result = subprocess.run(
        [sys.executable, "-S", "-c", SMOKE_SCRIPT, str(asset_dir), str(site_packages)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    answer = report["answer"]
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"]["code"] == "NOT_FOUND"

    from_asset, from_site = set(), set()
    for name, file in report["files"].items():
        if file is None:
            continue  # built into the interpreter
        path, top = Path(file), name.partition(".")[0]
        if path.is_relative_to(asset_dir):
            from_asset.add(top)
        elif path.is_relative_to(site_packages):
            from_site.add(top)
        else:
            assert any(path.is_relative_to(lib) for lib in standard_library), (name, file)
    assert from_asset == {"reference", "attr", "attrs"}
    assert from_site - LAMBDA_RUNTIME_PACKAGES == set()
