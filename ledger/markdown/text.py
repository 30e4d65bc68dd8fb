"""A document as exact text: lines with their offsets and own line endings.

Every reader in this package reports positions as offsets into the decoded
text, so an edit can splice exactly those characters and re-encode the rest
unchanged (UTF-8 decode/encode round-trips byte for byte).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import BadInput


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    start: int  # offset of the first character
    text: str  # without its line ending
    eol: str  # "\n", "\r\n", "\r" or "" on a last line with no newline

    @property
    def end(self) -> int:
        """Offset just past the text (before the line ending)."""
        return self.start + len(self.text)

    @property
    def next_start(self) -> int:
        return self.end + len(self.eol)


_LINE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|$)")


def split_lines(text: str) -> list[Line]:
    # str.splitlines also breaks on \x0b, \x1c, U+2028 ...; Markdown files only
    # break on CR/LF, so scanning our own way keeps offsets honest.
    lines: list[Line] = []
    pos = 0
    number = 1
    length = len(text)
    while pos < length:
        match = _LINE.match(text, pos)
        body, eol = match.group(1), match.group(2)
        lines.append(Line(number, pos, body, eol))
        pos = match.end()
        number += 1
    return lines


_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-"})


def normalise_hyphens(text: str) -> str:
    """U+2010 HYPHEN and U+2011 NON-BREAKING HYPHEN (which agents and editors put into
    ids like `A\u20111`) as the ASCII hyphen; one character for one, so offsets hold."""
    return text.translate(_HYPHENS)


def dominant_eol(lines: list[Line]) -> str:
    """The line ending most lines use ("\n" on a tie): a CR-only file keeps getting CR."""
    counts = {"\n": 0, "\r\n": 0, "\r": 0}
    for line in lines:
        if line.eol:
            counts[line.eol] += 1
    return max(("\n", "\r\n", "\r"), key=lambda eol: counts[eol])


@dataclass
class SourceText:
    """A file's decoded text plus what is needed to detect a concurrent change."""

    path: Path
    text: str
    sha256: str

    @classmethod
    def read(cls, path: Path) -> "SourceText":
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise BadInput("file not found", path) from None
        except IsADirectoryError:
            raise BadInput("is a directory, expected a Markdown file", path) from None
        return cls(path, decode_markdown(raw, path), hashlib.sha256(raw).hexdigest())

    def lines(self) -> list[Line]:
        return split_lines(self.text)


def decode_markdown(raw: bytes, path: Path) -> str:
    if b"\x00" in raw:
        raise BadInput("binary file (NUL bytes), not Markdown", path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInput(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", path, line) from None


_HEADING_START = re.compile(r" {0,3}(#{1,6})(?=\s)")


def parse_heading(text: str) -> tuple[int, str] | None:
    """`### Phase D — X ##` -> (3, "Phase D — X"): an ATX heading's level and title, or None.

    No regex spans the title: a backtracking `(.*?)\\s*#*\\s*$` is quadratic in a long run of
    spaces inside the title (real checklists pad cells and headings with thousands)."""
    match = _HEADING_START.match(text)
    if match is None:
        return None
    title = text[match.end():].strip().rstrip("#").rstrip()
    return len(match.group(1)), title


def strip_marks(text: str, marks: str = "*_`") -> str:
    """`text` without leading and trailing whitespace and `marks` characters, in linear time
    (`^[*_\\s]+|[*_\\s]+$` is quadratic on a long inner run of spaces)."""
    start, end = 0, len(text)
    while start < end and (text[start] in marks or text[start].isspace()):
        start += 1
    while end > start and (text[end - 1] in marks or text[end - 1].isspace()):
        end -= 1
    return text[start:end]
