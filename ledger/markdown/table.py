"""GFM pipe-table rows split into cells that remember their exact spans.

Agents write pipes inside code spans (`a|b`) and escape others (\\|); both
stay inside their cell. A row may omit its leading or trailing pipe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Cell:
    start: int  # offset in the line of the first character between the pipes
    end: int  # offset just past the last character before the next pipe
    raw: str  # text between the pipes, untrimmed

    @property
    def text(self) -> str:
        return self.raw.strip()

    @property
    def value(self) -> str:
        """The text as GFM shows it: trimmed, an escaped `\\|` read as `|` (in code spans too)."""
        return self.text.replace("\\|", "|")

    @property
    def content_start(self) -> int:
        return self.start + (len(self.raw) - len(self.raw.lstrip()))

    @property
    def content_end(self) -> int:
        return self.end - (len(self.raw) - len(self.raw.rstrip()))


_DELIMITER_CELL = re.compile(r"^\s*:?-+:?\s*$")


def split_cells(line: str) -> list[Cell] | None:
    """Cells of a table row, or None when the line is not a pipe row."""
    stripped = line.lstrip()
    if not stripped.startswith("|"):
        return None
    boundaries = _pipe_positions(line)
    if not boundaries:
        return None
    cells: list[Cell] = []
    for left, right in pairwise(boundaries):
        cells.append(Cell(left + 1, right, line[left + 1 : right]))
    tail_start = boundaries[-1] + 1
    tail = line[tail_start:]
    if tail.strip():
        # No trailing pipe: the remainder is the last cell.
        cells.append(Cell(tail_start, len(line), tail))
    return cells


def _pipe_positions(line: str) -> list[int]:
    return _scan(line)[0]


_SPECIAL = re.compile(r"[\\`|]")
_BACKTICKS = re.compile(r"`+")


def _scan(line: str) -> tuple[list[int], bool]:
    """The offsets of the cell-splitting pipes (not escaped, not in a code span), and whether
    a backtick run opens a code span that never closes (its backticks are then literal).

    Linear in the length of the line: the backtick runs are listed once, by length, and
    each opening run looks up the next run of its own length through a pointer that only
    moves forward (searching the rest of the line from every opening run made one 1.1 MB
    row take minutes)."""
    positions: list[int] = []
    unpaired = False
    # A code span closes on the next run of exactly its length; backslashes do not escape
    # inside a span, so every maximal run is a candidate closer.
    runs: dict[int, list[int]] = {}
    for found in _BACKTICKS.finditer(line):
        runs.setdefault(found.end() - found.start(), []).append(found.start())
    next_candidate: dict[int, int] = {}
    length = len(line)
    i = 0
    while i < length:
        match = _SPECIAL.search(line, i)
        if match is None:
            break
        i = match.start()
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "|":
            positions.append(i)
            i += 1
            continue
        backticks = _BACKTICKS.match(line, i)
        assert backticks is not None  # _SPECIAL stopped on a backtick
        end = backticks.end()
        run = end - i
        starts = runs.get(run, ())
        k = next_candidate.get(run, 0)
        while k < len(starts) and starts[k] < end:
            k += 1
        next_candidate[run] = k
        if k < len(starts):
            i = starts[k] + run
            continue
        unpaired = True
        i = end
    return positions, unpaired


def is_delimiter_row(cells: list[Cell]) -> bool:
    return bool(cells) and all(_DELIMITER_CELL.match(cell.raw) for cell in cells)


def escape_cell_text(text: str) -> str:
    """Make arbitrary text safe to place inside one table cell.

    Line breaks become spaces, every unescaped pipe gets a backslash, and if any
    backtick run would not close a code span within the text, every backtick is
    escaped so none can open a span that swallows the pipes of the cells after
    it. A trailing lone backslash is doubled so it cannot escape the cell's
    closing pipe. Backslashes are read as the row splitter reads them.
    """
    text = re.sub(r"\r\n|\n|\r", " ", text)
    out: list[str] = []
    backslashes = 0
    for ch in text:
        if ch == "|" and backslashes % 2 == 0:
            out.append("\\")
        out.append(ch)
        backslashes = backslashes + 1 if ch == "\\" else 0
    escaped = "".join(out)
    if _unpaired_backticks(escaped):
        escaped = escape_backticks(escaped)
    if (len(escaped) - len(escaped.rstrip("\\"))) % 2:
        escaped += "\\"
    return escaped


def escape_backticks(text: str) -> str:
    out: list[str] = []
    backslashes = 0
    for ch in text:
        if ch == "`" and backslashes % 2 == 0:
            out.append("\\")
        out.append(ch)
        backslashes = backslashes + 1 if ch == "\\" else 0
    return "".join(out)


def _unpaired_backticks(text: str) -> bool:
    """True when a backtick run opens a code span that does not close within `text`."""
    return _scan(text)[1]
