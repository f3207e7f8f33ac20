"""Structured JSON log lines, one per step, keyed by requestId and messageId.

Payload content is never logged: it may hold personal data, and the id is enough to find it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger("queuecheck.reference")
logger.setLevel(logging.INFO)


def log(step: str, outcome: str, level: int = logging.INFO, **fields: Any) -> None:
    line = {"step": step, "outcome": outcome}
    line.update({key: value for key, value in fields.items() if value is not None})
    logger.log(level, json.dumps(line, default=str, sort_keys=True))
