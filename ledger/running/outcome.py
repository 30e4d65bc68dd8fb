"""What a `ledger do` run proves: one table of outcomes and the rule that picks one.

Every outcome has a name (stored in `manifest.json`), an exit code, a title (summary,
attempt) and what it does to the row. Only `passed` ever makes a row done, and a pass
needs evidence that a test body ran: at least one executed (not skipped) test and no
failure or error in the JUnit XML, agreeing with the log's summary line. A tooling
mistake (wrong interpreter, typo in a node id, a conftest that does not import) is
never recorded as a regression of the work: those outcomes leave the row alone unless
`--flip-on-error` asks otherwise.

Pure functions of (pytest exit code, JUnit counts, log text): the audit re-applies
`classify` to stored evidence, so it must not depend on anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from ledger.documents.states import RowState
from ledger.errors import ExitCode


class RowEffect(StrEnum):
    DONE = "done"  # the row becomes done
    PARTIAL = "partial"  # the row becomes partial, with the reason
    KEEP = "keep"  # the row is left as it is
    KEEP_UNLESS_FLIP_ON_ERROR = (
        "keep-unless-flip-on-error"  # kept; `--flip-on-error` makes it partial
    )


class Outcome(StrEnum):
    """The outcomes, in table order: the value is the name `manifest.json` stores; each member
    carries its exit code, its heading (summary, attempt), its row effect and its meaning."""

    exit_code: int
    heading: str
    row: RowEffect
    meaning: str

    def __new__(cls, value: str, *info: Any) -> Outcome:
        # *info: (exit code, heading, row effect, meaning) when the table defines a member;
        # nothing when `Outcome("passed")` looks one up by its stored name.
        member = str.__new__(cls, value)
        member._value_ = value
        member.exit_code, member.heading, member.row, member.meaning = info
        return member

    PASSED = (
        "passed",
        ExitCode.PASSED,
        "PASSED",
        RowEffect.DONE,
        "at least one test body ran, none failed or errored (JUnit and log summary agree)",
    )
    FAILED = (
        "failed",
        ExitCode.TESTS_FAILED,
        "FAILED",
        RowEffect.PARTIAL,
        "tests ran and at least one failed or errored",
    )
    NO_TESTS = (
        "no_tests",
        ExitCode.NO_TESTS,
        "NO TESTS COLLECTED",
        RowEffect.KEEP,
        "the selector collected or ran no test (pytest exit 5, --setup-plan/--setup-only, empty JUnit)",
    )
    SKIPPED = (
        "skipped",
        ExitCode.SKIPPED,
        "ALL SKIPPED",
        RowEffect.KEEP,
        "tests were collected but every one was skipped or xfailed: no test body proved anything",
    )
    COLLECTION_ERROR = (
        "collection_error",
        ExitCode.COLLECTION_ERROR,
        "COLLECTION ERROR",
        RowEffect.KEEP_UNLESS_FLIP_ON_ERROR,
        "tests could not be collected: import errors, missing files, conftest/plugin failures, "
        "pytest exit 2, or collection errors in the JUnit XML",
    )
    USAGE_ERROR = (
        "usage_error",
        ExitCode.USAGE_ERROR,
        "USAGE ERROR",
        RowEffect.KEEP_UNLESS_FLIP_ON_ERROR,
        "pytest refused the command line: a bad option, a node id or file that does not exist (pytest exit 4)",
    )
    ERROR = (
        "error",
        ExitCode.RUN_ERROR,
        "ERROR",
        RowEffect.KEEP_UNLESS_FLIP_ON_ERROR,
        "pytest broke without telling about the tests: internal error (exit 3), no JUnit report, "
        "JUnit and log disagree, or an unknown exit code",
    )
    COLLECTED = (
        "collected",
        ExitCode.PASSED,
        "COLLECTED",
        RowEffect.KEEP,
        "a docs-mode selector (--collect-only) collected tests; nothing ran",
    )
    RED = (
        "red",
        ExitCode.PASSED,
        "RED CONFIRMED",
        RowEffect.KEEP,
        "`--expect fail`: the tests ran and failed, as a new TDD test should before its fix",
    )
    UNEXPECTED_PASS = (
        "unexpected_pass",
        ExitCode.UNEXPECTED_PASS,
        "PASSED, EXPECTED TO FAIL",
        RowEffect.KEEP,
        "`--expect fail`: the tests passed, so the red step is not confirmed",
    )
    TIMEOUT = (
        "timeout",
        ExitCode.TIMEOUT,
        "TIMED OUT",
        RowEffect.PARTIAL,
        "--timeout passed; the test process group was killed",
    )
    INTERRUPTED = (
        "interrupted",
        ExitCode.INTERRUPTED,
        "INTERRUPTED",
        RowEffect.PARTIAL,
        "Ctrl-C, SIGTERM or SIGHUP; the test process group was stopped, the partial log kept",
    )

    @property
    def is_pass(self) -> bool:
        return self is Outcome.PASSED

    @classmethod
    def known(cls, value: object) -> Outcome | None:
        """The member a stored name stands for; None for an outcome this ledger does not know
        (a manifest from an older or newer ledger, a hand-written one)."""
        if not isinstance(value, str):
            return None
        try:
            return cls(value)
        except ValueError:
            return None


class TddStep(StrEnum):
    """Which TDD step a `ledger do` run is (the manifest's `tdd`; the pair audit and show give)."""

    RED = "red"  # the new test must fail first
    GREEN = "green"  # the tests are expected to pass


class Expectation(StrEnum):
    """What `ledger do --expect` says the tests should do."""

    PASS = "pass"
    FAIL = (
        "fail"  # a TDD red run: a failure is `red`, a pass `unexpected_pass`; the row is left alone
    )

    @property
    def tdd_step(self) -> TddStep:
        return TddStep.RED if self is Expectation.FAIL else TddStep.GREEN


# Arguments that make pytest run no test body even when it exits 0.
COLLECT_ONLY_ARGS = frozenset({"--collect-only", "--co"})
SETUP_ONLY_ARGS = frozenset({"--setup-plan", "--setup-only"})


Run = TypeVar("Run")


def red_green_pair(runs: Sequence[tuple[Run, str | None]]) -> tuple[Run, Run | None] | None:
    """TDD: the newest confirmed red run (`do --expect fail`) and the first pass after it.

    `runs` are (run, outcome) pairs in the order the runs started."""
    reds = [index for index, (_, outcome) in enumerate(runs) if outcome == Outcome.RED]
    if not reds:
        return None
    red = reds[-1]
    green = next((run for run, outcome in runs[red + 1 :] if outcome == Outcome.PASSED), None)
    return runs[red][0], green


def row_state_after(outcome: str, flip_on_error: bool = False) -> RowState | None:
    """The state a run with this outcome gives its row; None when the row keeps its state."""
    effect = Outcome(outcome).row
    if effect is RowEffect.DONE:
        return RowState.DONE
    if effect is RowEffect.PARTIAL or (
        effect is RowEffect.KEEP_UNLESS_FLIP_ON_ERROR and flip_on_error
    ):
        return RowState.PARTIAL
    return None


# ------------------------------------------------------------ the log's summary line

# `=== 1 passed, 2 skipped in 0.12s ===`, `1 passed in 0.01s` (-q), `no tests ran in 0.1s`,
# `3 tests collected in 0.2s`, `2/3 tests collected (1 deselected) in 0.2s`, `… in 61.2s (0:01:01)`.
_SUMMARY = re.compile(
    r"^=*\s*(?P<body>(?:\d|no tests ran)[^=]*?)\s+in\s+[\d.]+s(?:\s+\([\d:]+\))?\s*=*\s*$"
)
_SUMMARY_ITEM = re.compile(r"^(?P<n>\d+)(?:/(?P<of>\d+))?\s+(?P<word>[a-z_ ]+?)(?:\s+\(.*\))?$")
_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "errors",
    "errors": "errors",
    "skipped": "skipped",
    "xfailed": "xfailed",
    "xpassed": "xpassed",
    "deselected": "deselected",
    "warning": "warnings",
    "warnings": "warnings",
    "rerun": "rerun",
    "tests collected": "collected",
    "test collected": "collected",
}


def parse_summary_line(log_text: str) -> dict[str, int] | None:
    """Counts from the last pytest summary line of a log; None when there is none (`-qq`)."""
    for line in reversed(log_text.splitlines()):
        match = _SUMMARY.match(line.strip())
        if not match:
            continue
        body = match.group("body")
        counts: dict[str, int] = {}
        if body.startswith("no tests ran"):
            return counts
        for item in body.split(", "):
            found = _SUMMARY_ITEM.match(item.strip())
            if not found:
                break
            key = _WORDS.get(found.group("word"), found.group("word"))
            counts[key] = counts.get(key, 0) + int(found.group("n"))
        else:
            return counts
    return None


def summary_disagreement(junit: dict, summary: dict[str, int]) -> str | None:
    """Why a JUnit pass is not backed by the log's summary line; None when they agree."""
    log_executed = summary.get("passed", 0) + summary.get("xpassed", 0)
    if summary.get("failed", 0) or summary.get("errors", 0):
        return f"the log's summary reports {summary.get('failed', 0)} failed, {summary.get('errors', 0)} errors but the JUnit XML none"
    if log_executed != junit["passed"]:
        return f"JUnit XML counts {junit['passed']} passed, the log's summary line {log_executed}"
    return None


# ------------------------------------------------------------ the first real error line

_CODE_LINE = re.compile(r"^E\s{2,}(?P<msg>\S.*)$")
_COLLECTING = re.compile(r"^_+ ERROR collecting (?P<what>\S+) _+$")
_IMPORTING = re.compile(
    r"^ImportError while (?:importing test module|loading conftest) '(?P<path>[^']+)'"
)
_USAGE = re.compile(r"^(?:ERROR: (?!usage: )(?P<msg>.+)|.*pytest(?:\.py)?: error: (?P<arg>.+))$")
_INTERNAL = re.compile(r"^INTERNALERROR> (?P<msg>\w*(?:Error|Exception)\b.*)$")
_CONFTEST = re.compile(
    r"ImportError while loading conftest|Error while loading conftest|while loading plugin|"
    r"Plugin already registered|Error importing plugin"
)
_NO_PYTEST = re.compile(r"No module named '?pytest'?\s*$")


def first_error_line(log_text: str, roots: Iterable[Path | str] = ()) -> str | None:
    """The first line of the log that says what broke, with `roots` made relative.

    Prefers the exception line of a collection traceback (`E   ModuleNotFoundError: …`)
    with the module it came from, then pytest's own `ERROR: …` usage lines, then an
    INTERNALERROR, then `No module named pytest` from the interpreter itself.
    """
    lines = log_text.splitlines()
    where = None
    for line in lines:
        text = line.rstrip()
        collecting = _COLLECTING.match(text) or _IMPORTING.match(text)
        if collecting and where is None:
            where = collecting.groupdict().get("what") or collecting.groupdict().get("path")
        code = _CODE_LINE.match(text)
        if code:
            message = code.group("msg")
            return _relative(f"{message} (collecting {where})" if where else message, roots)
    for line in lines:
        usage = _USAGE.match(line.rstrip())
        if usage:
            return _relative((usage.group("msg") or usage.group("arg")).strip(), roots)
    for line in lines:
        internal = _INTERNAL.match(line.rstrip())
        if internal:
            return _relative(internal.group("msg"), roots)
    for line in lines:
        if _NO_PYTEST.search(line.rstrip()):
            return line.strip()
    if where:
        return _relative(f"error collecting {where}", roots)
    return None


def _relative(text: str, roots: Iterable[Path | str]) -> str:
    for root in sorted(
        {str(r).rstrip("/") for r in roots if str(r).strip("/")}, key=len, reverse=True
    ):
        text = text.replace(root + "/", "").replace(root, ".")
    return text


# ------------------------------------------------------------ the rule


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str | None
    summary: dict[str, int] | None = None  # the log's summary line, parsed
    collected: int | None = None  # docs mode: tests collected


def classify(
    *,
    exit_code: int | None,
    junit: dict[str, Any] | None,
    log_text: str,
    args: Iterable[str] = (),
    timed_out: bool = False,
    interrupted: bool = False,
    timeout_s: float | None = None,
    expect: str = Expectation.PASS,
    roots: Iterable[Path | str] = (),
) -> Verdict:
    """The outcome of one pytest run from its exit code, JUnit counts (None: no report) and log.

    `junit` holds tests, passed, failed, errors, skipped and, when known, collection_errors.
    `expect=Expectation.FAIL` (a TDD red run) turns a failure into `red` and a pass into `unexpected_pass`.
    """
    verdict = _classify(
        exit_code, junit, log_text, tuple(args), timed_out, interrupted, timeout_s, list(roots)
    )
    if expect == Expectation.FAIL:
        if verdict.outcome is Outcome.FAILED:
            return Verdict(Outcome.RED, f"red confirmed: {verdict.reason}", verdict.summary)
        if verdict.outcome is Outcome.PASSED:
            return Verdict(
                Outcome.UNEXPECTED_PASS,
                "expected the tests to fail (--expect fail) but they passed",
                verdict.summary,
            )
    return verdict


def _classify(code, junit, log_text, args, timed_out, interrupted, timeout_s, roots) -> Verdict:
    summary = parse_summary_line(log_text)
    if interrupted:
        return Verdict(
            Outcome.INTERRUPTED,
            "interrupted (Ctrl-C, SIGTERM or SIGHUP); partial log kept",
            summary,
        )
    if timed_out:
        return Verdict(
            Outcome.TIMEOUT,
            f"timed out after {timeout_s:g}s; process group killed" if timeout_s else "timed out",
            summary,
        )

    def error_line(default: str) -> str:
        return first_error_line(log_text, roots) or default

    collection_errors = (junit or {}).get("collection_errors", 0)
    if code == 2 or (code == 4 and _CONFTEST.search(log_text)):
        if collection_errors or "during collection" in log_text or code == 4:
            return Verdict(
                Outcome.COLLECTION_ERROR,
                error_line(f"pytest exited {code} while collecting"),
                summary,
            )
        return Verdict(
            Outcome.ERROR, error_line("pytest stopped itself (exit 2) before finishing"), summary
        )
    if code == 4:
        return Verdict(
            Outcome.USAGE_ERROR, error_line("pytest rejected the command line (exit 4)"), summary
        )
    if code == 3:
        return Verdict(Outcome.ERROR, error_line("pytest internal error (exit 3)"), summary)
    if code == 5:
        return Verdict(Outcome.NO_TESTS, "selector collected 0 tests", summary)
    if junit is None:
        if code != 0 and _NO_PYTEST.search(log_text):
            return Verdict(
                Outcome.COLLECTION_ERROR,
                error_line("pytest is not installed in this interpreter"),
                summary,
            )
        if code not in (0, 1):
            return Verdict(Outcome.ERROR, error_line(f"pytest exited {code}"), summary)
        return Verdict(
            Outcome.ERROR,
            f"pytest exited {code} without writing a JUnit report: nothing proves what ran",
            summary,
        )
    if collection_errors:
        return Verdict(
            Outcome.COLLECTION_ERROR,
            error_line(f"{collection_errors} collection error(s) in the JUnit XML"),
            summary,
        )
    if code == 1:
        return Verdict(
            Outcome.FAILED,
            f"{junit['failed']} failed, {junit['errors']} errors of {junit['tests']} tests",
            summary,
        )
    if code != 0:
        return Verdict(Outcome.ERROR, error_line(f"pytest exited {code}"), summary)
    if any(a in COLLECT_ONLY_ARGS for a in args):
        collected = (summary or {}).get("collected")
        if collected:
            return Verdict(
                Outcome.COLLECTED,
                f"{collected} tests collected (--collect-only: nothing ran)",
                summary,
                collected,
            )
        return Verdict(Outcome.NO_TESTS, "selector collected 0 tests", summary, 0)
    setup_only = sorted(set(args) & SETUP_ONLY_ARGS)
    if setup_only:
        return Verdict(Outcome.NO_TESTS, f"{setup_only[0]} runs no test body", summary)
    if junit["failed"] or junit["errors"]:
        return Verdict(
            Outcome.FAILED,
            f"pytest exited 0 but the JUnit XML holds {junit['failed']} failed, {junit['errors']} errors",
            summary,
        )
    if junit["tests"] == 0 or summary == {}:
        return Verdict(
            Outcome.NO_TESTS,
            "selector collected 0 tests" if junit["tests"] == 0 else "the log says no tests ran",
            summary,
        )
    if junit["passed"] == 0:
        return Verdict(
            Outcome.SKIPPED,
            f"all {junit['skipped']} tests skipped or xfailed: no test body ran to completion",
            summary,
        )
    if summary is not None:
        why = summary_disagreement(junit, summary)
        if why:
            return Verdict(Outcome.ERROR, f"JUnit XML and log disagree: {why}", summary)
    return Verdict(Outcome.PASSED, None, summary)


def outcome_table() -> list[dict[str, Any]]:
    """The table as data (README, `--explain`-style listings)."""
    return [
        {
            "outcome": o.value,
            "exit_code": o.exit_code,
            "title": o.heading,
            "row": o.row.value,
            "meaning": o.meaning,
        }
        for o in Outcome
    ]
