"""Fenced code blocks: lines inside them are code, not plan rows, ledger entries or fields."""

from __future__ import annotations

import re

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def closes(marker: str, text: str) -> bool:
    """Does `text` close a block opened by `marker`? Same character, at least as long (CommonMark)."""
    match = FENCE.match(text)
    return (
        match is not None and match.group(1)[0] == marker[0] and len(match.group(1)) >= len(marker)
    )


class FenceTracker:
    """Fed a document's lines in order, tells which belong to a fenced block."""

    def __init__(self) -> None:
        self.marker: str | None = None

    def in_fence(self, text: str) -> bool:
        """True for a fence's opening line, its content and its closing line."""
        if self.marker is not None:
            if closes(self.marker, text):
                self.marker = None
            return True
        match = FENCE.match(text)
        if match:
            self.marker = match.group(1)
            return True
        return False
