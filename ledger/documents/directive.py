"""A supervisor directive (`input.md`), read into its header fields and sections.

A directive is a header of `Key: value` fields (Summary, Mode, Focus, Branch,
Mapped tests, Artifacts) followed by titled sections (Do Now, If Blocked, ...).
Real directives write keys plain (`Mode: Perf`), bold (`**Mode:** Perf`) or as
headings (`## Do Now`), with or without the colon; all of those are read.

This module only reads the text: whether a field is right (`check-input`) is
`ledger.directives.check`, writing one (`brief`) is `ledger.directives.brief`,
and which Mapped tests are pytest selectors is `ledger.running.selector`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ledger.markdown.fences import FenceTracker
from ledger.markdown.text import SourceText, normalise_hyphens


class DirectiveMode(StrEnum):
    """A directive's `Mode:`; the value is how `brief` writes it and `check-input` names it."""

    TDD = "TDD"
    PARITY = "Parity"
    PERF = "Perf"
    DOCS = "Docs"
    NONE = "none"


HEADER_FIELDS = {
    "summary": ("summary",),
    "mode": ("mode",),
    "focus": ("focus",),
    "branch": ("branch",),
    "mapped_tests": ("mapped tests", "mapped test", "mapped selectors"),
    "artifacts": ("artifacts", "artifact", "artifacts dir", "artifacts hub"),
}
HEADER_TITLES = {
    "summary": "Summary",
    "mode": "Mode",
    "focus": "Focus",
    "branch": "Branch",
    "mapped_tests": "Mapped tests",
    "artifacts": "Artifacts",
}
SECTIONS = {
    "do_now": ("do now",),
    "if_blocked": ("if blocked",),
    "priorities": ("priorities & rationale", "priorities and rationale", "priorities", "rationale"),
    "how_to": ("how-to map", "how to map", "howto map", "how-to"),
    "pitfalls": ("pitfalls to avoid", "pitfalls"),
    "pointers": ("pointers",),
    "next_up": ("next up",),
}
SECTION_TITLES = {
    "do_now": "Do Now",
    "if_blocked": "If Blocked",
    "priorities": "Priorities & Rationale",
    "how_to": "How-To Map",
    "pitfalls": "Pitfalls To Avoid",
    "pointers": "Pointers",
    "next_up": "Next Up",
}
_ALIASES = {
    alias: key
    for table in (HEADER_FIELDS, SECTIONS)
    for key, aliases in table.items()
    for alias in aliases
}

_HEADING_PREFIX = re.compile(r"^#{1,6}\s+")
_PLAIN_KEY = re.compile(
    r"^(?P<key>[A-Za-z][A-Za-z &/-]{0,40}?(?:\s*\([^()]{0,60}\))?)\s*:(?P<value>.*)$"
)
# `Do Now (hard validity contract)`, `Next Up (optional):` are the sections they name.
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")
_FOCUS_TOKEN = re.compile(
    r"^\s*(?:\[(?P<bracketed>[^\]\s]+)\](?P<suffix>\.[A-Za-z0-9.]+)?|(?P<bare>[A-Za-z0-9][A-Za-z0-9._-]*))"
)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def _normalise_key(text: str) -> str:
    key = text.strip().strip("*_").strip().rstrip(":").strip()
    return " ".join(_QUALIFIER.sub("", key).lower().split())


@dataclass
class Field:
    key: str
    line: int
    value: str
    continuation: list[str] = field(default_factory=list)

    @property
    def full_text(self) -> str:
        return "\n".join([self.value, *self.continuation]).strip()


@dataclass
class Directive:
    path: Path
    text: str
    fields: dict[str, Field] = field(default_factory=dict)
    sections: dict[str, Field] = field(default_factory=dict)
    repeated: list[tuple[str, int]] = field(default_factory=list)


def split_key_line(text: str) -> tuple[str, str, bool] | None:
    """(key, value, explicit) for a `Key: value` / `**Key:** value` / `## Key` line.

    `explicit` is False for a bare word line like `Pointers` (no colon, no
    heading, no bold), which counts only when the word is a known title.
    """
    rest = text
    heading = _HEADING_PREFIX.match(rest)
    if heading:
        rest = rest[heading.end() :]
    for mark in ("**", "__"):
        if rest.startswith(mark):
            close = rest.find(mark, len(mark))
            if close == -1:
                return None
            inner, after = rest[len(mark) : close], rest[close + len(mark) :]
            if inner.rstrip().endswith(":"):
                return _normalise_key(inner), after.strip(), True
            if after.lstrip().startswith(":"):
                return _normalise_key(inner), after.lstrip()[1:].strip(), True
            if not after.strip():
                return _normalise_key(inner), "", True
            return None
    match = _PLAIN_KEY.match(rest)
    if match:
        return _normalise_key(match.group("key")), match.group("value").strip(), True
    if heading:
        return _normalise_key(rest), "", True
    return _normalise_key(rest), "", False


def parse_directive(source: SourceText) -> Directive:
    directive = Directive(source.path, source.text)
    current: Field | None = None
    fences = FenceTracker()
    for line in source.lines():
        text = line.text
        if fences.in_fence(text):
            if current is not None:
                current.continuation.append(text)
            continue
        parsed = split_key_line(text) if text and not text[0].isspace() else None
        key = _ALIASES.get(parsed[0]) if parsed else None
        if parsed and key and (parsed[2] or key in SECTIONS):
            table = directive.fields if key in HEADER_FIELDS else directive.sections
            if key in table:
                directive.repeated.append((key, line.number))
                current = None
                continue
            current = Field(key, line.number, parsed[1])
            table[key] = current
            continue
        if current is None:
            continue
        if current.key in HEADER_FIELDS and not text.strip():
            current = None  # a header field's continuation ends at a blank line
            continue
        current.continuation.append(text)
    return directive


def mode_name(value: str) -> DirectiveMode | None:
    """The mode a `Mode:` value (or `--mode`) names, whatever its case; None if none."""
    word = re.split(r"[\s—–(,;]", value.strip().strip("`*"), maxsplit=1)[0]
    return next((mode for mode in DirectiveMode if mode.lower() == word.lower()), None)


def parse_focus(value: str, known: set[str]) -> tuple[str | None, str | None, str]:
    """(initiative, row, token) from `[ID] ...`, `[ID.ROW] ...`, `[ID].ROW`, `ID.ROW ...`."""
    match = _FOCUS_TOKEN.match(normalise_hyphens(value).strip().strip("*`"))
    if not match:
        return None, None, ""
    token = match.group("bracketed") or match.group("bare")
    suffix = (match.group("suffix") or "")[1:]
    token = token.rstrip(".:,;")
    if token in known:
        return token, suffix or None, token
    # IDs may contain dots, so try every split point, longest initiative first.
    parts = token.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head, tail = ".".join(parts[:cut]), ".".join(parts[cut:])
        if head in known:
            return head, ".".join(filter(None, [tail, suffix])) or None, token
    return None, None, token


@dataclass(frozen=True)
class MappedTests:
    """A `Mapped tests:` value read: its code spans if it has any, else its list pieces."""

    spans: list[str]
    pieces: list[str]
    says_none: bool


def parse_mapped_tests(value: str) -> MappedTests:
    stripped = value.strip().strip("*_").strip()
    says_none = bool(re.match(r"^`?(?:none|n/a|na)\b", stripped, re.IGNORECASE))
    if says_none:
        return MappedTests([], [], True)  # code spans after "none —" explain why; they map nothing
    spans = [m.group(2).strip() for m in _CODE_SPAN.finditer(value)]
    if spans or not stripped:
        return MappedTests(spans, [], False)
    pieces = [p.strip().lstrip("-* ").strip() for p in _split_list(stripped)]
    return MappedTests([], [p for p in pieces if p], False)


def _split_list(text: str) -> list[str]:
    """`a; b`, `a, b` or one per line; a comma inside `[...]` (a parametrize id) or quotes stays."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    quote: str | None = None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ";,\n":
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return pieces


def artifacts_path(value: str) -> str:
    """The folder an `Artifacts:` value names: first path, brace lists and prose cut off."""
    text = value.strip()
    span = _CODE_SPAN.search(text)
    if span:
        text = span.group(2)
    text = text.split()[0] if text.split() else ""
    text = text.split("{", 1)[0]
    return text.strip("`'\"")
