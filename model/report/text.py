"""Text from a run, made safe to show: anything a handler, a payload or a test put in it.

A record's attribute or an answer's body may hold any string, lone surrogates and NUL
included; neither XML nor HTML can carry those, and the UTF-8 file could not be written. They
become U+FFFD here; escaping for markup is left to the caller (the SVG's ``attr``/``text``, the
page's Jinja2 autoescape).
"""

from __future__ import annotations

import re

# XML 1.0's Char production, less what HTML also rejects (DEL and the C1 controls):
# whatever matches is not allowed in either.
_NOT_ALLOWED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
ELLIPSIS = "\u2026"


def clean(text: str) -> str:
    """``text`` with every character XML or HTML cannot carry replaced by U+FFFD."""
    return _NOT_ALLOWED.sub("\ufffd", text)


def clip(text: str, width: int) -> str:
    """``text`` cleaned, on one line, cut to ``width`` characters with an ellipsis if longer."""
    line = " ".join(clean(text).split())
    if len(line) <= width:
        return line
    return line[: max(width - 1, 0)] + ELLIPSIS


def escape(text: str) -> str:
    """Cleaned and escaped for XML text and attribute values (double or single quoted)."""
    return (
        clean(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )
