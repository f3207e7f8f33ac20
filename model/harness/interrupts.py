"""Ctrl-C that sticks. Python raises ``KeyboardInterrupt`` wherever the main thread happens to
be, and where that is a finaliser or a garbage-collector callback (Hypothesis registers one to
time collections, and that is where it was lost), the exception is reported as "unraisable"
and the interrupt is lost: a run that a user stopped went on to its verdict.
``queuecheck-verify`` installs ``on_ctrl_c``, which also remembers the interrupt, and the
machine calls ``check`` before every step."""

from __future__ import annotations

import signal
import threading
from types import FrameType

_requested = threading.Event()


def on_ctrl_c(signum: int, frame: FrameType | None) -> None:
    _requested.set()
    raise KeyboardInterrupt


def install() -> None:
    """Take over SIGINT (main thread only, as every Python signal handler)."""
    signal.signal(signal.SIGINT, on_ctrl_c)


def check() -> None:
    """Raise the interrupt again if one was lost since ``install``."""
    if _requested.is_set():
        raise KeyboardInterrupt
