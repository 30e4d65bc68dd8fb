"""Plan text on a page: escaped, with its `code spans` shown as code."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def inline_code(text: str | None) -> Markup:
    """Escape plan text, then show its `code spans` as <code> (after escaping, so nothing injects)."""
    escaped = str(escape(text or ""))
    return Markup(_CODE_SPAN.sub(lambda m: f"<code>{m.group(2).strip()}</code>", escaped))
