"""`ledger do`: run a row's selector, keep the evidence, flip the row, log the attempt."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from ledger.documents.fix_plan import LedgerLayout
from ledger.documents.plan import Row
from ledger.editing.bookkeeping import add_attempt
from ledger.editing.locking import workspace_lock
from ledger.running.evidence import ReportDir, phase_slug, plan_report_dir, utc_now
from ledger.running.interpreter import Interpreter, workspace_interpreter
from ledger.running.outcome import Expectation
from ledger.running.row_selector import ResolvedSelector, resolve_selector
from ledger.workspace import Workspace

if TYPE_CHECKING:
    from ledger.running.do_target import ChosenFolder
    from ledger.running.outcome import Outcome
    from ledger.running.record import Evidence, Recorded, StagedRun
    from ledger.running.runner import RunResult
    from ledger.running.warm_start import WarmStart

Echo = Callable[[str], None]

# The default --timeout: under the shell-tool limits agent loops run commands with (Claude
# Code's Bash tool stops a command after 2 minutes unless asked for up to 10; Codex CLI's
# shell calls carry a per-call timeout too), so ledger's own timeout fires first and the
# run is recorded (outcome timeout) instead of being killed with nothing written.
DEFAULT_TIMEOUT_S = 110.0


def effective_timeout(ws: Workspace, given: float | None) -> float | None:
    """`--timeout N` (0: none), else `[tool.ledger] timeout`, else DEFAULT_TIMEOUT_S."""
    value = (
        given
        if given is not None
        else (ws.config.timeout if ws.config.timeout is not None else DEFAULT_TIMEOUT_S)
    )
    return value or None


@dataclass
class DoOptions:
    initiative: str
    row: str
    selector: str | None = None
    slug: str | None = None
    timeout_s: float | None = None
    lock_timeout_s: float = 10.0
    flip: bool = True
    dry_run: bool = False
    commit: bool = False
    # collection_error, usage_error and error leave the row alone unless this is set.
    flip_on_error: bool = False
    # FAIL: a TDD red run; the tests are expected to fail (outcome `red`, row left open).
    expect: Expectation = Expectation.PASS
    attempt_number: int | None = None  # a pre-assigned number (input.md's "add Attempt #82")
    # The evidence folder chosen beforehand: `<report root>/<TS>/[<slug>/]`, or just `<TS>`.
    report_dir: str | None = None
    at: str | None = None
    # A supervisor directive (input.md) giving initiative, row, selector and Artifacts folder.
    from_input: str | None = None
    selector_source: str | None = None  # where `selector` came from, when not the command line
    # timeout_s is ledger's DEFAULT_TIMEOUT_S (neither --timeout nor [tool.ledger] timeout): a run
    # it cuts short leaves the row alone, as a tooling limit says nothing about the work.
    timeout_is_default: bool = False
    selector_where: str | None = None  # its file:line, for a refusal (input.md:4)
    # The tests' interpreter, pre-started at its gate by the command (ledger.running.warm_start):
    # sent the run's argv once everything is checked and staged; the caller abandons it otherwise.
    warm: WarmStart | None = None


@dataclass
class PreparedRun:
    """A run checked and decided under the lock, before anything is created: the row, its
    selector, the interpreter and the evidence folder it will get."""

    row: Row
    selector: ResolvedSelector
    report_dir: ReportDir
    interpreter: Interpreter
    chosen_folder: ChosenFolder | None = None  # the folder --report-dir / --at / input.md chose
    directive_notes: list[str] = field(default_factory=list)


@dataclass
class DoResult:
    initiative: str
    row: str
    selector: str
    outcome: Outcome
    reason: str | None
    counts: dict | None
    duration_s: float
    report_dir: str
    state_before: str | None
    state_after: str | None
    attempt: int | None
    exit_code: int
    argv: list[str] = field(default_factory=list)
    env_overrides: dict[str, str] = field(default_factory=dict)
    guardrail: str | None = None
    commit: dict | None = None
    state_changed: bool = False
    notices: list[str] = field(default_factory=list)  # things the caller must be told (stderr)
    python: dict | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("exit_code")
        return data


def apply_directive(ws: Workspace, options: DoOptions) -> list[str]:
    """Fill `options` from `options.from_input` (arguments given on the command line win);
    returns how each field was decided."""
    if not options.from_input:
        return []
    from ledger.running.do_target import read_target

    target = read_target(
        ws, options.from_input, options.initiative or None, options.row or None, options.selector
    )
    options.initiative, options.row = target.initiative, target.row
    if options.selector is None and target.selector is not None:
        options.selector, options.selector_source = target.selector, target.source
        options.selector_where = f"{target.path}:{target.line}" if target.line else None
    if options.report_dir is None and options.at is None and target.report_dir:
        options.report_dir = target.report_dir
    return target.notes


def prepare(ws: Workspace, options: DoOptions) -> PreparedRun:
    """Everything decided and checked before anything is created (a refusal here leaves no trace)."""
    notes = apply_directive(ws, options)
    row = ws.find_row(options.initiative, options.row)
    resolved = resolve_selector(
        ws, row, options.selector, options.selector_source, options.selector_where
    )
    chosen = None
    if options.report_dir or options.at:
        # Imported only when asked for: everything before the test starts is fixed cost.
        from ledger.running.do_target import choose_folder

        chosen = choose_folder(ws, options.initiative, options.report_dir, options.at)
    # A ledger that cannot take the attempt (binary, not UTF-8, an unclosed code fence)
    # would fail only after the run, leaving evidence and a flipped row without their
    # attempt: refuse before running anything.
    add_attempt(
        ws,
        options.initiative,
        lambda number, layout, style: (
            [f"### {utc_now():%Y-%m-%dT%H:%MZ} — {options.initiative} {row.id} (check)"]
            if layout == LedgerLayout.GLOBAL
            else [f"[{utc_now():%Y-%m-%d}] Attempt #{number} — check"]
        ),
        write=False,
        number=options.attempt_number,
    )
    slug = phase_slug(row, options.slug or (chosen.slug if chosen else None))
    report_dir = plan_report_dir(
        ws.report_root(options.initiative), slug, utc_now(), chosen.at if chosen else None
    )
    # ledger's own pytest options (the cache folder must not lead outside): refused before anything is created.
    from ledger.running.selector_policy import ledger_run_options

    ledger_run_options(ws.root, report_dir.path, resolved.selector.args)
    return PreparedRun(row, resolved, report_dir, workspace_interpreter(ws), chosen, notes)


def describe_run(ws: Workspace, prepared: PreparedRun, options: DoOptions) -> list[str]:
    """What `do --dry-run` prints: the run `prepared` would make and what it would change."""
    from ledger.running.runner import pytest_argv
    from ledger.running.selector_policy import ledger_run_options

    args = prepared.selector.selector.args
    argv = pytest_argv(
        ["pytest", *args],
        prepared.report_dir.path / "junit.xml",
        ledger_run_options(ws.root, prepared.report_dir.path, args),
        python=prepared.interpreter.path,
    )
    lines = [
        f"row:        {options.initiative} {prepared.row.ref} ({ws.relative(prepared.row.path)}:{prepared.row.line}) state {prepared.row.state_token or '?'}",
        f"selector:   {prepared.selector.selector.display}  (from {prepared.selector.source})",
        f"python:     {prepared.interpreter.path}  ({prepared.interpreter.why})",
        *(f"directive:  {note}" for note in prepared.directive_notes),
        f"timeout:    {options.timeout_s:g}s" if options.timeout_s else "timeout:    none",
        f"argv:       {json.dumps(argv)}",
        f"env:        {json.dumps(prepared.selector.env)}",
        f"report dir: {ws.relative(prepared.report_dir.path)}/"
        + (f"  (folder chosen by {prepared.chosen_folder.by})" if prepared.chosen_folder else ""),
        _state_line(ws, options),
        f"attempt:    appended to {ws.relative(ws.ledger_path)}",
    ]
    return lines


def _state_line(ws: Workspace, options: DoOptions) -> str:
    if not options.flip:
        return "state:      unchanged (--no-flip)"
    if options.expect == Expectation.FAIL:
        return "state:      unchanged (--expect fail: exit 0 when the tests fail, 9 when they pass)"
    errors = (
        f"-> {ws.config.states.write_partial}"
        if options.flip_on_error
        else "unchanged (--flip-on-error to change)"
    )
    return (
        f"on pass:    state -> {ws.config.states.write_done}; on failure: -> {ws.config.states.write_partial}; "
        f"on collection/usage error: {errors}; no tests or all skipped: unchanged"
    )


# Once the tests have run, their record waits this long for the lock (at least): a finished
# run is never dropped because another command held the workspace for a while.
RECORD_LOCK_TIMEOUT_S = 300.0


def run_do(ws: Workspace, options: DoOptions, echo: Echo) -> DoResult:
    """The workspace lock is held only to prepare the run and to record it, not while the tests
    run: two rows run at once, and a supervisor's `mark` is never blocked by a long test. The
    record re-reads the plan and the ledger under the lock (change_row and add_attempt read
    afresh and find their row and item again), so it splices into what is there then."""
    with _interrupt_handling():
        with workspace_lock(ws.root, options.lock_timeout_s):
            prepared = prepare(ws, options)
            guard = paths = None
            if options.commit:
                from ledger.running.git_commit import ensure_committable

                # Refuse before running anything, so a refused commit wastes no test time.
                paths = [prepared.row.path, ws.ledger_path]
                guard = ensure_committable(ws.root, paths)

        def record_lock():
            return workspace_lock(ws.root, max(options.lock_timeout_s, RECORD_LOCK_TIMEOUT_S))

        def commit(result: DoResult) -> None:
            if guard is not None and paths is not None:
                from ledger.running.git_commit import commit_run

                result.commit = commit_run(guard, result, ws.root / result.report_dir, paths)

        return _execute(ws, options, prepared, echo, record_lock, commit)


def _terminated(signum, frame):
    from ledger.errors import Terminated

    raise Terminated


@contextmanager
def _interrupt_handling():
    """SIGTERM (a supervisor's kill, a CI timeout) and SIGHUP (the terminal or ssh session
    went away) stop the run the way Ctrl-C does, so the test process group is stopped and
    the interrupted run recorded, not orphaned."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.getsignal(signum)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    signal.signal(signal.SIGTERM, _terminated)
    if previous[signal.SIGHUP] is not signal.SIG_IGN:  # nohup's choice is kept
        signal.signal(signal.SIGHUP, _terminated)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)


def _defer_sigint(echo: Echo) -> None:
    """From here on, Ctrl-C and SIGTERM are noted, not raised: the run is over and its
    evidence, row flip and attempt are written together (`_interrupt_handling` restores)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def note(signum, frame):
        echo("[ledger] interrupted after the run: finishing its record first")

    signal.signal(signal.SIGINT, note)
    signal.signal(signal.SIGTERM, note)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, note)


def _execute(
    ws: Workspace,
    options: DoOptions,
    prepared: PreparedRun,
    echo: Echo,
    record_lock=None,
    after_record=None,
) -> DoResult:
    """Stage the evidence folder, run the tests (no lock held), write the evidence, then take
    `record_lock()` to record the run in the plan and the ledger (and `after_record(result)`
    under the same lock).

    Registered as a run in flight first (RunClaim): if this process dies before the record's
    journal exists, the next repair marks its report folder abandoned."""
    from ledger.editing.repair import RunClaim, fault_point
    from ledger.running.record import record_in_plan, stage_run, write_evidence

    with RunClaim.start(ws.root) as claim:
        fault_point("run-registered")
        staged = stage_run(ws, options, prepared, claim)
        tests = _run_tests(ws, options, prepared, staged, echo)
        _defer_sigint(echo)  # the run is over: its record is finished whatever arrives now
        fault_point("tests-ran")
        evidence = write_evidence(ws, options, prepared, staged, tests, echo)
        with (record_lock or nullcontext)():
            recorded = record_in_plan(ws, options, prepared, staged, evidence, claim)
            result = _result(ws, options, prepared, staged, tests, evidence, recorded)
            if after_record is not None:
                after_record(result)
        return result


def _run_tests(
    ws: Workspace, options: DoOptions, prepared: PreparedRun, staged: StagedRun, echo: Echo
) -> RunResult:
    from ledger.running.runner import RunRequest, run_streaming

    echo(f"[ledger] {options.initiative} {prepared.row.id}: {prepared.selector.selector.display}")
    echo(f"[ledger] evidence -> {ws.relative(staged.folder)}/")
    return run_streaming(
        RunRequest(
            argv=staged.argv,
            env_overrides=prepared.selector.env,
            cwd=ws.root,
            log_path=staged.folder / "pytest.log",
            timeout_s=options.timeout_s,
            previous_duration_s=staged.previous_for_echo,
            warm=options.warm,
        ),
        echo,
    )


def _result(
    ws: Workspace,
    options: DoOptions,
    prepared: PreparedRun,
    staged: StagedRun,
    run: RunResult,
    evidence: Evidence,
    recorded: Recorded,
) -> DoResult:
    return DoResult(
        initiative=options.initiative,
        row=prepared.row.id,
        selector=prepared.selector.selector.display,
        outcome=evidence.outcome,
        reason=evidence.reason,
        counts=evidence.counts,
        duration_s=round(run.duration_s, 3),
        report_dir=ws.relative(staged.folder) + "/",
        state_before=recorded.state_before,
        state_after=recorded.state_after,
        attempt=recorded.attempt,
        exit_code=evidence.outcome.exit_code,
        argv=staged.argv,
        env_overrides=prepared.selector.env,
        guardrail=evidence.guardrail,
        state_changed=recorded.state_changed,
        notices=recorded.notices,
        python=prepared.interpreter.to_json(),
    )
