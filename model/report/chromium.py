"""The system's headless Chromium, offline: screenshots of a page, and its DOM after load.

Used by ``model.report.sample`` for the screenshots in ``docs/`` and by the browser test. Every
run gets a fresh profile, no network (host names resolve to nothing, and any request would go
to a proxy on a closed port), a time limit, and ends with no Chromium process left behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI; the page is our own file
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
)
TIMEOUT_S = 60.0


class ChromiumError(Exception):
    """Chromium is missing, failed, or did not finish in time."""


def find() -> str | None:
    """``QUEUECHECK_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else ``chromium`` on PATH."""
    chosen = os.environ.get("QUEUECHECK_CHROMIUM")
    if chosen:
        return chosen
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def leftovers(marker: str) -> list[int]:
    """Processes whose command line names ``marker`` (a run's own profile folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _end(group: int, marker: str) -> None:
    """Kill what is left of the run: its process group, then anything naming its profile."""
    deadline = time.monotonic() + 5
    while True:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        left = leftovers(marker)
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if not left:
            return
        if time.monotonic() > deadline:
            raise ChromiumError(f"Chromium processes {left} outlived their run")
        time.sleep(0.1)


def run(args: Sequence[str], timeout: float = TIMEOUT_S, scratch: Path | None = None) -> str:
    """Run headless Chromium with ``args`` after the offline flags; its standard output. Its
    fresh profile is made in ``scratch`` (default: the system's temporary folder)."""
    exe = find()
    if exe is None:
        raise ChromiumError("no Chromium: install Debian's chromium or set QUEUECHECK_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="queuecheck-chromium-", dir=scratch) as profile:
        command = [exe, *FLAGS, f"--user-data-dir={profile}", *args]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so every child can be ended
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end(process.pid, profile)
            process.communicate()
            raise ChromiumError(f"Chromium took more than {timeout:.0f} s: {command}") from None
        finally:
            _end(process.pid, profile)
        if process.returncode != 0:
            tail = err.decode(errors="replace")[-2000:]
            raise ChromiumError(f"Chromium exited {process.returncode}: {tail}")
        return out.decode(errors="replace")


def screenshot(
    page: Path,
    out: Path,
    size: tuple[int, int] = (1280, 2000),
    extra: Sequence[str] = (),
    scratch: Path | None = None,
) -> Path:
    """A PNG of ``page`` in a window of ``size`` (width, height) pixels. (The report's own
    Content-Security-Policy keeps scripts off; ``--blink-settings=scriptEnabled=false`` would
    too, but headless Chromium then writes no screenshot at all.)"""
    out = out.resolve()
    out.unlink(missing_ok=True)
    window = f"--window-size={size[0]},{size[1]}"
    run([f"--screenshot={out}", window, *extra, page.resolve().as_uri()], scratch=scratch)
    if not out.exists():
        raise ChromiumError(f"Chromium wrote no screenshot of {page}")
    return out


def dump_dom(page: Path, size: tuple[int, int] = (1280, 2000), scratch: Path | None = None) -> str:
    """The DOM of ``page`` once loaded (after any script on it ran), serialized."""
    window = f"--window-size={size[0]},{size[1]}"
    return run(["--dump-dom", window, page.resolve().as_uri()], scratch=scratch)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m model.report.chromium screenshot PAGE.html OUT.png [WIDTH HEIGHT]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (3, 5) or args[0] != "screenshot":
        print(main.__doc__, file=sys.stderr)
        return 2
    size = (int(args[3]), int(args[4])) if len(args) == 5 else (1280, 2000)
    print(screenshot(Path(args[1]), Path(args[2]), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
