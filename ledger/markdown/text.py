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
        assert match is not None  # _LINE matches anywhere (an empty body and eol at the end)
        body, eol = match.group(1), match.group(2)
        lines.append(Line(number, pos, body, eol))
        pos = match.end()
        number += 1
    return lines


_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-"})


def normalise_hyphens(text: str) -> str:
    """U+2010 HYPHEN and U+2011 NON-BREAKING HYPHEN (which agents and editors put into
    ids like `A\u20111`) as the ASCII hyphen; one character for one, so offsets hold."""
    if "\u2010" not in text and "\u2011" not in text:
        return text  # translate walks a non-ASCII text character by character
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
    sha256: str | None  # None: the file did not exist when read

    @classmethod
    def read(cls, path: Path) -> SourceText:
        raw = read_regular(path)
        return cls(path, decode_markdown(raw, path), hashlib.sha256(raw).hexdigest())

    def lines(self) -> list[Line]:
        return split_lines(self.text)


def non_regular_kind(mode: int) -> str | None:
    """'a FIFO', 'a device', ... for a file that is not a regular one; None for a regular file."""
    import stat

    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def refuse_non_regular(path: Path, mode: int) -> None:
    kind = non_regular_kind(mode)
    if kind is not None:
        raise BadInput(f"is {kind}, not a regular file; refusing to read or write it", path)


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file. A FIFO or device is refused without blocking on it
    (opened non-blocking, checked with fstat before any read): reading one would hang."""
    import os

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise BadInput("file not found", path) from None
    except IsADirectoryError:
        raise BadInput("is a directory, expected a Markdown file", path) from None
    try:
        refuse_non_regular(path, os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


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
    title = text[match.end() :].strip().rstrip("#").rstrip()
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
