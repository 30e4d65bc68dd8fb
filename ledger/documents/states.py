"""The row-state vocabulary: which cell tokens mean open, partial or done."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPEN, PARTIAL, DONE = "open", "partial", "done"

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

    def classify(self, token: str) -> str | None:
        if token in self.done:
            return DONE
        if token in self.partial:
            return PARTIAL
        if token in self.open:
            return OPEN
        return None

    def token_for(self, state: str) -> str:
        return {DONE: self.write_done, PARTIAL: self.write_partial, OPEN: self.write_open}[state]

    def parse_user_state(self, value: str) -> str:
        """Accept `done`, `x`, `[x]`, `P`, `partial`, `open`, `[ ]` ... from a command line."""
        key = value.strip().lower()
        names = {
            "done": DONE, "x": DONE, "d": DONE, "complete": DONE,
            "partial": PARTIAL, "p": PARTIAL, "blocked": PARTIAL, "in_progress": PARTIAL,
            "open": OPEN, "todo": OPEN, "": OPEN,
        }
        if key in names:
            return names[key]
        state = self.classify(value.strip())
        if state is None:
            raise ValueError(f"unknown state {value!r}: use done, partial or open (or [x], [P], [ ])")
        return state
