"""A splice: replace the bytes between two offsets of a text, leaving every other byte as it is.

Readers (`ledger.documents`) return splices; `ledger.editing` applies them and writes the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Splice:
    start: int
    end: int
    text: str


def apply_splices(text: str, splices: list[Splice]) -> str:
    ordered = sorted(splices, key=lambda s: (s.start, s.end))
    for earlier, later in pairwise(ordered):
        if later.start < earlier.end:
            raise ValueError(
                f"overlapping edits at {earlier.start}-{earlier.end} and {later.start}-{later.end}"
            )
    pieces: list[str] = []
    cursor = 0
    for splice in ordered:
        pieces.append(text[cursor : splice.start])
        pieces.append(splice.text)
        cursor = splice.end
    pieces.append(text[cursor:])
    return "".join(pieces)
