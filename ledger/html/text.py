"""Plan text on a page: its Markdown (code spans, emphasis, links, lists) as safe HTML.

Rendered by markdown-it-py (CommonMark) configured so that plan text can never inject
markup or script:
- raw HTML is off: `<script>`, `<img onerror=…>` and every other tag in plan text are
  shown as text, escaped, never passed through;
- a link is kept only to http(s), mailto or a relative target; `javascript:`, `data:`,
  `vbscript:`, `file:` and any other scheme leave the link as plain text (entities and
  case are decoded first, so `JavaScript&#58;` is the same refused scheme);
- images are off: a page loads nothing, from the network or elsewhere.
markdown-it is imported on first use: only `ledger html` pays for it.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache

from markupsafe import Markup, escape

# A link target ledger keeps: http(s) or mailto, or no scheme at all (a relative path,
# `#anchor`, `?query`): no ':' before the first '/', '?' or '#'.
_SAFE_URL = re.compile(r"^(?:https?:|mailto:|[^:/?#]*(?:[/?#]|$))", re.IGNORECASE)
# Characters that can make inline Markdown more than text (code, emphasis, links, entities,
# escapes, breaks, raw HTML; NUL, which CommonMark replaces). Text without any renders as
# itself, escaped: no parse needed (attempt headlines and plan cells are tens of thousands).
_INLINE_SYNTAX = re.compile(r"[`*_\[\]!<>&\\\n\r\x00]")
_SYNTAX_BUT_BACKTICKS = re.compile(r"[*_\[\]!<>&\\\n\r\x00]")
_LINE_OR_NUL = re.compile(r"[\n\r\x00]")


def safe_url(url: str) -> bool:
    """May a link in plan text point at `url` (after markdown-it decoded and normalised it)?"""
    return _SAFE_URL.match(url) is not None


@cache
def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = safe_url  # type: ignore[method-assign]
    return md


def markdown_inline(text: str | None) -> Markup:
    """One line of plan text (a cell, a description, an attempt's headline) as inline HTML."""
    if not text:
        return Markup("")
    if _INLINE_SYNTAX.search(text) is None:
        return escape(text)
    simple = _code_spans_only(text)
    if simple is not None:
        return simple
    return Markup(_markdown().renderInline(text))


def _code_spans_only(text: str) -> Markup | None:
    """Text whose only Markdown is code spans of single backticks (`pytest x`), as CommonMark
    renders it, without the parser; None for anything else. Inside a span everything is
    literal (`phase_a_work` has no emphasis); outside, any syntax character sends the text
    to the parser. A single backtick closes at the next single backtick; a span's content
    loses one space each side when it has both."""
    parts = text.split("`")
    if len(parts) % 2 == 0 or not all(parts[1:-1]):
        return None  # an unpaired backtick, or a run of two or more (``): the parser decides
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            if _SYNTAX_BUT_BACKTICKS.search(part) is not None:
                return None
            out.append(escape(part))
        else:
            if _LINE_OR_NUL.search(part) is not None:
                return None
            if len(part) >= 2 and part[0] == " " and part[-1] == " " and part.strip(" "):
                part = part[1:-1]
            out.append(Markup("<code>") + escape(part) + Markup("</code>"))
    return Markup("").join(out)


def markdown_block(text: str | None) -> Markup:
    """Several lines of plan text (an attempt's body, a finding) as block HTML: paragraphs,
    lists, code. Indentation common to every line is removed first (an attempt's body is
    indented under its list item; left as is, it would read as a code block)."""
    if not text or not text.strip():
        return Markup("")
    return Markup(_markdown().render(textwrap.dedent(text)))


# The name the templates' `code` filter has always had; Markdown renders code spans the same.
inline_code = markdown_inline
