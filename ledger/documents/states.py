"""The row-state vocabulary: which cell tokens mean open, partial or done."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class RowState(StrEnum):
    """What a row's state token means. The tokens themselves are configurable (`[states]` in
    `.ledger.toml`, see StateVocabulary); these three meanings are not."""

    OPEN = "open"
    PARTIAL = "partial"
    DONE = "done"


# A state token is a bracketed marker, optionally wrapped in backticks or bold.
STATE_TOKEN = re.compile(r"\[[^\[\]\n]{0,3}\]")


@dataclass(frozen=True)
class StateVocabulary:
    done: tuple[str, ...] = ("[x]", "[X]", "[D]")
    partial: tuple[str, ...] = ("[P]", "[p]", "[-]", "[~]")
    open: tuple[str, ...] = ("[ ]", "[]")
    write_done: str = "[x]"
    write_partial: str = "[P]"
    write_open: str = "[ ]"
    aliases: dict[str, str] = field(default_factory=dict)

    def classify(self, token: str) -> RowState | None:
        if token in self.done:
            return RowState.DONE
        if token in self.partial:
            return RowState.PARTIAL
        if token in self.open:
            return RowState.OPEN
        return None

    def token_for(self, state: RowState) -> str:
        return {
            RowState.DONE: self.write_done,
            RowState.PARTIAL: self.write_partial,
            RowState.OPEN: self.write_open,
        }[state]

    def parse_user_state(self, value: str) -> RowState:
        """Accept `done`, `x`, `[x]`, `P`, `partial`, `open`, `[ ]` ... from a command line."""
        key = value.strip().lower()
        names = {
            "done": RowState.DONE,
            "x": RowState.DONE,
            "d": RowState.DONE,
            "complete": RowState.DONE,
            "partial": RowState.PARTIAL,
            "p": RowState.PARTIAL,
            "blocked": RowState.PARTIAL,
            "in_progress": RowState.PARTIAL,
            "open": RowState.OPEN,
            "todo": RowState.OPEN,
            "": RowState.OPEN,
        }
        if key in names:
            return names[key]
        state = self.classify(value.strip())
        if state is None:
            raise ValueError(
                f"unknown state {value!r}: use done, partial or open (or [x], [P], [ ])"
            )
        return state
