"""Error types carrying the exit code and the file position they are about."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class ExitCode:
    PASSED = 0
    TESTS_FAILED = 1
    BAD_INPUT = 2
    NO_TESTS = 3
    LOCKED = 4
    # `ledger do` outcomes that are not about the tests (see ledger/running/outcome.py).
    COLLECTION_ERROR = 5
    USAGE_ERROR = 6
    SKIPPED = 7
    RUN_ERROR = 8
    UNEXPECTED_PASS = 9
    INTERRUPTED = 130
    TIMEOUT = 124


class LedgerError(Exception):
    """A failure the user can act on; rendered as one line, never a traceback."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else f"{self.path}"

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class BadInput(LedgerError):
    exit_code = ExitCode.BAD_INPUT


class SelectorRule(StrEnum):
    """The part of the selector policy (README, "Guarantees") a selector breaks, as every
    refusal prints it (`[rule: …]`)."""

    SELECTOR_SYNTAX = "selector-syntax"  # not a selector at all: unbalanced quotes, empty
    NO_SHELL = "no-shell"
    PYTEST_ONLY = "pytest-only"
    ENV_ALLOWLIST = "env-allowlist"
    OPTION_ALLOWLIST = "option-allowlist"
    PATH_CONFINEMENT = "path-confinement"
    ELIDED = "elided"  # incomplete rather than refused: the plan left part of it out

    @property
    def refuses(self) -> bool:
        return self is not SelectorRule.ELIDED


class UnsafeSelector(BadInput):
    """A selector ledger will not run; `rule` names the part of the selector policy it breaks
    (README, "Guarantees"). An elided selector (`pytest ... -k X`) is incomplete rather than
    refused: `selectors --collect` flags it (exit 1) where it reports refusals with exit 2."""

    def __init__(
        self,
        message: str,
        path: Path | str | None = None,
        line: int | None = None,
        rule: SelectorRule = SelectorRule.SELECTOR_SYNTAX,
    ):
        super().__init__(message, path, line)
        self.rule = rule

    @property
    def refused(self) -> bool:
        return self.rule.refuses

    @property
    def detail(self) -> str:
        """The message with its rule, without the file:line."""
        return f"{self.message} [rule: {self.rule}]"

    def at(self, path: Path | str | None, line: int | None) -> UnsafeSelector:
        """The same refusal, placed at `path:line` (the plan row or directive line it came from)."""
        return UnsafeSelector(
            self.message,
            path if path is not None else self.path,
            line if path is not None else self.line,
            self.rule,
        )

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.detail}" if where else self.detail


class WorkspaceLocked(LedgerError):
    exit_code = ExitCode.LOCKED


class ConcurrentEdit(LedgerError):
    """The file changed on disk between our read and our write."""

    exit_code = ExitCode.LOCKED


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP during a run: stopped like Ctrl-C, but whoever sent it usually kills
    ledger a few seconds later (an orchestrator's SIGKILL 5 s after SIGTERM), so the run is
    wound down and recorded within that time."""
