"""What a handler writes while it runs: every log record and every line on stdout and stderr.

DESIGN.md forbids payloads in logs (they may be personal data); the harness can only hold a
handler to that if it reads what the handler writes. The capture sees every record that would
be emitted, at the levels the loggers are set to: levels are left alone, since lowering them
would show what no deployed function writes (botocore's DEBUG records carry every request).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator


class _Lines(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.NOTSET)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            text = f"{record.msg!r} % {record.args!r}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.extend(text.splitlines() or [""])


@contextlib.contextmanager
def captured() -> Iterator[list[str]]:
    """Collect the invocation's log records and output lines into the list it yields."""
    lines: list[str] = []
    root = logging.getLogger()
    handler = _Lines(lines)
    out, err = io.StringIO(), io.StringIO()
    root.addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield lines
    finally:
        root.removeHandler(handler)
        lines.extend(out.getvalue().splitlines())
        lines.extend(err.getvalue().splitlines())
