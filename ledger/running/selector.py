"""Pytest selectors: found in plan text, parsed with shlex, never given to a shell.

This module is syntax only; what a selector may do (environment names, pytest
options, paths) is `ledger.running.selector_policy`, which everything that runs one applies.

A selector is `[NAME=value ...] pytest ARGS` or `python -m pytest ARGS`, or a
bare node id (`tests/x.py::test_y`). Anything else is refused.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from ledger.config import ENV_NAME
from ledger.errors import SelectorRule, UnsafeSelector

_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_NODE_ID = re.compile(r"^[\w./-]+\.py(::[\w\[\]./-]+)*$")
_PYTHON = re.compile(r"^(?:.*/)?python(?:3(?:\.\d+)?)?$")
# Shell syntax has no meaning in an argv list; its presence means the text was
# written for a shell, so running it "as is" would not do what its author meant.
_SHELL_SYNTAX = re.compile(r"[;&|<>`]|\$\(|\$\{")
_ELISIONS = frozenset({"...", "…"})
# In a NAME=value prefix, only substitutions betray shell intent (`;` or `|` in a quoted value is data).
_SUBSTITUTION = re.compile(r"`|\$\(|\$\{")


@dataclass(frozen=True)
class Selector:
    text: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()  # arguments after `pytest`

    @property
    def display(self) -> str:
        prefix = " ".join(
            f"{k}={shlex.quote(v) if v else chr(34) * 2}" for k, v in self.env.items()
        )
        command = shlex.join(["pytest", *self.args])
        return f"{prefix} {command}" if prefix else command


def code_spans(text: str) -> list[str]:
    return [m.group(2).strip() for m in _CODE_SPAN.finditer(text)]


# What shlex.split (POSIX, no comments) gives meaning to besides its whitespace: quotes and
# the escape character. Text without them splits at that whitespace and nowhere else.
_SHLEX_QUOTING = re.compile(r"['\"\\]")
_SHLEX_WORD = re.compile(r"[^ \t\r\n]+")


def split_words(text: str) -> list[str]:
    """shlex.split(text), without shlex's character-by-character reader for text that
    holds no quote or backslash (most code spans): `ledger html` asks it of every row."""
    if _SHLEX_QUOTING.search(text) is None:
        return _SHLEX_WORD.findall(text)
    return shlex.split(text)


def looks_like_selector(span: str) -> bool:
    if "pytest" not in span and "::" not in span:
        return False  # every selector names pytest or a node id; most code spans are neither
    try:
        tokens = split_words(span)
    except ValueError:
        return False
    while tokens and "=" in tokens[0] and ENV_NAME.match(tokens[0].split("=", 1)[0]):
        tokens = tokens[1:]
    if not tokens:
        return False
    if tokens[0] == "pytest" or (
        len(tokens) >= 3 and _PYTHON.match(tokens[0]) and tokens[1:3] == ["-m", "pytest"]
    ):
        return True
    return len(tokens) == 1 and bool(_NODE_ID.match(tokens[0])) and "::" in tokens[0]


def find_selectors(text: str) -> list[str]:
    """Code spans in plan text that are pytest commands or node ids, in order."""
    seen: list[str] = []
    for span in code_spans(text):
        if looks_like_selector(span) and span not in seen:
            seen.append(span)
    return seen


def mapped_selectors(value: str) -> tuple[list[str], bool]:
    """(selectors, says_none) from a directive's `Mapped tests:` value."""
    from ledger.documents.directive import parse_mapped_tests

    mapped = parse_mapped_tests(value)
    if mapped.spans:
        # Code spans that are no selector are reported as unsafe rather than ignored.
        return [s for s in mapped.spans if looks_like_selector(s)] or mapped.spans, mapped.says_none
    return mapped.pieces, mapped.says_none


def parse_selector(text: str) -> Selector:
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise UnsafeSelector(f"selector {text!r} cannot be parsed: {exc}") from None
    if not tokens:
        raise UnsafeSelector("empty selector")
    env: dict[str, str] = {}
    while tokens and "=" in tokens[0] and not tokens[0].startswith("="):
        name, value = tokens[0].split("=", 1)
        if not ENV_NAME.match(name):
            raise UnsafeSelector(f"selector {text!r}: {tokens[0]!r} is not a NAME=value prefix")
        if _SUBSTITUTION.search(value):
            raise UnsafeSelector(
                f"selector {text!r}: {tokens[0]!r} holds shell substitution; ledger never runs a shell",
                rule=SelectorRule.NO_SHELL,
            )
        env[name] = value
        tokens = tokens[1:]
    if not tokens:
        raise UnsafeSelector(f"selector {text!r} has environment settings but no command")
    if tokens[0] == "pytest":
        args = tokens[1:]
    elif len(tokens) >= 3 and _PYTHON.match(tokens[0]) and tokens[1:3] == ["-m", "pytest"]:
        args = tokens[3:]
    elif len(tokens) == 1 and "::" in tokens[0] and _NODE_ID.match(tokens[0]):
        args = tokens
    else:
        raise UnsafeSelector(
            f"selector {text!r} is not a pytest invocation (only `[NAME=value ...] pytest ...` runs)",
            rule=SelectorRule.PYTEST_ONLY,
        )
    for arg in args:
        if _SHELL_SYNTAX.search(arg):
            raise UnsafeSelector(
                f"selector {text!r} contains shell syntax {arg!r}; ledger never runs a shell",
                rule=SelectorRule.NO_SHELL,
            )
        if _is_elided(arg):
            raise UnsafeSelector(
                f"selector {text!r} is elided ({arg!r} stands for text the plan left out); "
                "write the whole selector in the plan or pass it with --selector",
                rule=SelectorRule.ELIDED,
            )
    return Selector(text=text, env=env, args=tuple(args))


def _is_elided(arg: str) -> bool:
    """`pytest ... -k X` or `tests/…/test_x.py`: plans abbreviate selectors; pytest would collect nothing."""
    return any(part in _ELISIONS for part in re.split(r"/|::", arg))
