"""Stage the Lambda code: the reference package and attrs, copied, and nothing else.

Why copy rather than `pip install` or Docker bundling at synth time: both need a network or a
daemon, and either can give different bytes on different days. The attrs installed next to
the CDK (pinned by the repository's constraints.txt) is already on disk; it is pure Python,
so a copy made on any machine runs on Lambda's Python. boto3 is not copied: the Lambda
runtime provides it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import attr
import attrs

HANDLER_MODULE = "handler.py"

# Tests are no part of the function; bytecode is rebuilt on Lambda and would only churn the
# asset hash.
SKIP_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "tests", "conftest.py")
# The dist-info travels for attrs' licence and metadata; these files describe this machine's
# install (which installer, which paths), not the package.
SKIP_INSTALL_RECORD = shutil.ignore_patterns(
    "RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "__pycache__"
)


def stage(reference_dir: Path, dest: Path) -> Path:
    """Fill ``dest`` with ``reference/``, ``attr/``, ``attrs/`` and attrs' dist-info.

    ``dest`` is emptied first so a file deleted from the reference never lingers in the
    asset. Raises ``FileNotFoundError`` when the reference has no handler module: deploying
    a function whose entry point cannot import would only fail later, in AWS.
    """
    if not (reference_dir / HANDLER_MODULE).is_file():
        raise FileNotFoundError(
            f"{reference_dir / HANDLER_MODULE} not found: the function's handler is "
            "reference.handler.lambda_handler, so the reference package must be in place "
            "before the stack is synthesized"
        )
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(reference_dir, dest / "reference", ignore=SKIP_SOURCE)
    for package in (attr, attrs):
        package_dir = Path(package.__file__).parent
        shutil.copytree(package_dir, dest / package_dir.name, ignore=SKIP_SOURCE)
    info_dir = _dist_info_dir(Path(attrs.__file__).parent)
    shutil.copytree(info_dir, dest / info_dir.name, ignore=SKIP_INSTALL_RECORD)
    _make_readable(dest)
    return dest


def _make_readable(root: Path) -> None:
    """Files 0644, folders 0755, whatever the checkout's umask.

    The Lambda runtime reads the code as another user: a file that is only owner-readable
    in the zip (a checkout made under umask 077) fails at import time, in AWS.
    """
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _dist_info_dir(package_dir: Path) -> Path:
    """The ``attrs-*.dist-info`` beside the imported package: the licence of what is copied.

    Looked up next to the package rather than through ``importlib.metadata`` so the licence
    always belongs to the very files that were copied.
    """
    found = sorted(package_dir.parent.glob(f"{package_dir.name}-*.dist-info"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one {package_dir.name}-*.dist-info, found {found}")
    return found[0]
