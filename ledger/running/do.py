"""`ledger do`: run a row's selector, keep the evidence, flip the row, log the attempt."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.documents.fix_plan import entry_token
from ledger.documents.plan import Row
from ledger.documents.states import DONE, PARTIAL
from ledger.editing.bookkeeping import add_attempt, change_row
from ledger.editing.locking import workspace_lock
from ledger.render import Renderer
from ledger.running.evidence import (
    MANIFEST_VERSION,
    ReportDir,
    counts_for_baseline,
    create_report_dir,
    hash_files,
    phase_slug,
    plan_report_dir,
    region_hashes,
    row_manifests,
    utc_now,
    write_manifest,
)
from ledger.running.interpreter import Interpreter, workspace_interpreter
from ledger.running.outcome import Outcome
from ledger.running.row_selector import ResolvedSelector, resolve_selector
from ledger.workspace import Workspace

if TYPE_CHECKING:
    # do_target is imported where it is used (only `do` with a target needs it).
    from ledger.running.do_target import ChosenFolder

Echo = Callable[[str], None]

# The default --timeout: under the shell-tool limits agent loops run commands with (Claude
# Code's Bash tool stops a command after 2 minutes unless asked for up to 10; Codex CLI's
# shell calls carry a per-call timeout too), so ledger's own timeout fires first and the
# run is recorded (outcome timeout) instead of being killed with nothing written.
DEFAULT_TIMEOUT_S = 110.0


def effective_timeout(ws: Workspace, given: float | None) -> float | None:
    """`--timeout N` (0: none), else `[tool.ledger] timeout`, else DEFAULT_TIMEOUT_S."""
    value = given if given is not None else (ws.config.timeout if ws.config.timeout is not None else DEFAULT_TIMEOUT_S)
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
    # "fail": a TDD red run; the tests are expected to fail (outcome `red`, row left open).
    expect: str = "pass"
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


@dataclass
class DoPlan:
    row: Row
    selector: ResolvedSelector
    report_dir: ReportDir
    next_attempt: int | None
    state_after_pass: str
    interpreter: Interpreter | None = None
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
    from ledger.running.do_target import read_target

    if not options.from_input:
        return []
    target = read_target(ws, options.from_input, options.initiative or None, options.row or None, options.selector)
    options.initiative, options.row = target.initiative, target.row
    if options.selector is None and target.selector is not None:
        options.selector, options.selector_source = target.selector, target.source
        options.selector_where = f"{target.path}:{target.line}" if target.line else None
    if options.report_dir is None and options.at is None and target.report_dir:
        options.report_dir = target.report_dir
    return target.notes


def prepare(ws: Workspace, options: DoOptions) -> DoPlan:
    notes = apply_directive(ws, options)
    row = ws.find_row(options.initiative, options.row)
    resolved = resolve_selector(ws, row, options.selector, options.selector_source, options.selector_where)
    chosen = None
    if options.report_dir or options.at:
        # Imported only when asked for: everything before the test starts is fixed cost.
        from ledger.running.do_target import choose_folder

        chosen = choose_folder(ws, options.initiative, options.report_dir, options.at)
    # A ledger that cannot take the attempt (binary, not UTF-8, an unclosed code fence)
    # would fail only after the run, leaving evidence and a flipped row without their
    # attempt: refuse before running anything.
    add_attempt(ws, options.initiative, lambda number, layout, style: [f"### {utc_now():%Y-%m-%dT%H:%MZ} — {options.initiative} {row.id} (check)"]
                if layout == "global" else [f"[{utc_now():%Y-%m-%d}] Attempt #{number} — check"], write=False,
                number=options.attempt_number)
    slug = phase_slug(row, options.slug or (chosen.slug if chosen else None))
    report_dir = plan_report_dir(ws.report_root(options.initiative), slug, utc_now(), chosen.at if chosen else None)
    # ledger's own pytest options (the cache folder must not lead outside): refused before anything is created.
    from ledger.running.selector_policy import ledger_run_options

    ledger_run_options(ws.root, report_dir.path, resolved.selector.args)
    return DoPlan(row, resolved, report_dir, None, ws.config.states.token_for(DONE), workspace_interpreter(ws),
                  chosen, notes)


def describe_plan(ws: Workspace, plan: DoPlan, options: DoOptions) -> list[str]:
    from ledger.running.runner import pytest_argv
    from ledger.running.selector_policy import ledger_run_options

    args = plan.selector.selector.args
    argv = pytest_argv(["pytest", *args], plan.report_dir.path / "junit.xml", ledger_run_options(ws.root, plan.report_dir.path, args),
                       python=plan.interpreter.path)
    lines = [
        f"row:        {options.initiative} {plan.row.ref} ({ws.relative(plan.row.path)}:{plan.row.line}) state {plan.row.state_token or '?'}",
        f"selector:   {plan.selector.selector.display}  (from {plan.selector.source})",
        f"python:     {plan.interpreter.path}  ({plan.interpreter.why})",
        *(f"directive:  {note}" for note in plan.directive_notes),
        f"timeout:    {options.timeout_s:g}s" if options.timeout_s else "timeout:    none",
        f"argv:       {json.dumps(argv)}",
        f"env:        {json.dumps(plan.selector.env)}",
        f"report dir: {ws.relative(plan.report_dir.path)}/" + (f"  (folder chosen by {plan.chosen_folder.by})" if plan.chosen_folder else ""),
        _state_line(ws, options),
        f"attempt:    appended to {ws.relative(ws.ledger_path)}",
    ]
    return lines


def _state_line(ws: Workspace, options: DoOptions) -> str:
    if not options.flip:
        return "state:      unchanged (--no-flip)"
    if options.expect == "fail":
        return "state:      unchanged (--expect fail: exit 0 when the tests fail, 9 when they pass)"
    errors = f"-> {ws.config.states.write_partial}" if options.flip_on_error else "unchanged (--flip-on-error to change)"
    return (f"on pass:    state -> {ws.config.states.write_done}; on failure: -> {ws.config.states.write_partial}; "
            f"on collection/usage error: {errors}; no tests or all skipped: unchanged")


def previous_row_note(ws: Workspace, initiative: str, row: Row, history: list | None = None) -> str | None:
    """The note the newest flipping `ledger do` of this row wrote into its guidance cell.

    `history`: the row's manifests, already read (`row_history`)."""
    history = row_history(ws, initiative, row) if history is None else history
    for _, manifest in reversed(history):
        if isinstance(manifest.get("row_note"), str):
            return manifest["row_note"]
    return None


def row_history(ws: Workspace, initiative: str, row: Row) -> list:
    """The row's recorded runs (folder, manifest), oldest first: read once per `ledger do`,
    for the previous duration, the note to replace and the guardrail baseline."""
    return row_manifests(ws.report_root(initiative), row.id, ws.relative(row.path))


def previous_duration(ws: Workspace, initiative: str, row: Row, history: list | None = None,
                      selector: str | None = None) -> float | None:
    history = row_history(ws, initiative, row) if history is None else history
    for _, manifest in reversed(history):
        if counts_for_baseline(manifest, selector):
            return float(manifest["duration_s"])
    return None


# Once the tests have run, their record waits this long for the lock (at least): a finished
# run is never dropped because another command held the workspace for a while.
RECORD_LOCK_TIMEOUT_S = 300.0


def run_do(ws: Workspace, options: DoOptions, echo: Echo) -> DoResult:
    """The workspace lock is held only to plan the run and to record it, not while the tests
    run: two rows run at once, and a supervisor's `mark` is never blocked by a long test. The
    record re-reads the plan and the ledger under the lock (change_row and add_attempt read
    afresh and find their row and item again), so it splices into what is there then."""
    with _interrupt_handling():
        with workspace_lock(ws.root, options.lock_timeout_s):
            plan = prepare(ws, options)
            guard = paths = None
            if options.commit:
                from ledger.running.git_commit import ensure_committable

                # Refuse before running anything, so a refused commit wastes no test time.
                paths = [plan.row.path, ws.ledger_path]
                guard = ensure_committable(ws.root, paths)

        def record_lock():
            return workspace_lock(ws.root, max(options.lock_timeout_s, RECORD_LOCK_TIMEOUT_S))

        def commit(result: DoResult) -> None:
            if guard is not None:
                from ledger.running.git_commit import commit_run

                result.commit = commit_run(guard, result, ws.root / result.report_dir, paths)

        return _execute(ws, options, plan, echo, record_lock, commit)


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
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
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


def _execute(ws: Workspace, options: DoOptions, plan: DoPlan, echo: Echo, record_lock=None, after_record=None) -> DoResult:
    """Run the tests (no lock held), write the evidence, then take `record_lock()` to flip
    the row and append the attempt (and `after_record(result)` under the same lock).

    Registered as a run in flight first (RunClaim): if this process dies before the record's
    journal exists, the next repair marks its report folder abandoned."""
    from ledger.editing.repair import RunClaim, fault_point

    with RunClaim.start(ws.root) as run:
        fault_point("run-registered")
        return _run_and_record(ws, options, plan, echo, run, record_lock, after_record)


def _run_and_record(ws: Workspace, options: DoOptions, plan: DoPlan, echo: Echo, run, record_lock=None,
                    after_record=None) -> DoResult:
    from ledger.editing.repair import fault_point

    with_lock = record_lock or nullcontext
    from ledger.running.environment import (
        capture_environment,
        project_packages,
        render_snapshot_text,
    )
    from ledger.running.runner import RunRequest, pytest_argv, run_streaming
    from ledger.running.selector_policy import ledger_run_options, remove_basetemp

    row = plan.row
    renderer = Renderer(ws.templates_dir)
    # Before the report folder exists and the tests run: a missing template must not leave a
    # half-written folder behind after minutes of testing.
    renderer.require(RECORD_TEMPLATES)
    chosen = plan.chosen_folder
    def claim(folder: Path, staging: Path) -> None:
        run.claim(folder, staging)
        fault_point("report-claimed")

    report = create_report_dir(ws.root, ws.report_root(options.initiative), plan.report_dir.slug, utc_now(),
                               chosen.at if chosen else None, run_id=run.token, claim=claim)
    fault_point("report-created")
    folder = report.path
    junit_path = folder / "junit.xml"
    args = plan.selector.selector.args
    argv = pytest_argv(["pytest", *args], junit_path, ledger_run_options(ws.root, folder, args), python=plan.interpreter.path)
    base_manifest = {
        "version": MANIFEST_VERSION,
        "complete": False,
        "tool": "ledger do",
        "initiative": options.initiative,
        "row": row.id,
        "phase": row.phase.key if row.phase else None,
        "plan": ws.relative(row.path),
        "selector": plan.selector.selector.text,
        "selector_source": plan.selector.source,
        # red: a `--expect fail` run (the new test must fail first); green: a run expected to pass.
        "tdd": "red" if options.expect == "fail" else "green",
        "argv": argv,
        "python": plan.interpreter.to_json(),
        "env_overrides": plan.selector.env,
        # A folder dated before the run (chosen by the supervisor): its time is the choice's, not the run's.
        "report_dir_chosen": {"by": chosen.by, "timestamp": chosen.at} if chosen else None,
        "directive": options.from_input and ws.relative(Path(options.from_input) if Path(options.from_input).is_absolute() else ws.root / options.from_input),
        "started_at": report.timestamp if chosen is None else utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run_id": run.token,  # names its registration while it runs (ledger.editing.repair.RunClaim)
    }
    # Written first so a run killed half-way leaves a folder that says so.
    write_manifest(folder, base_manifest)

    # The snapshot (package metadata, GitPython, nvidia-smi) is taken while the tests run,
    # not before: it would otherwise add its whole cost to every `ledger do`.
    snapshot_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-env")
    env_future = snapshot_pool.submit(
        # The package list (a scan of the workspace when no settings name it) is made here too.
        lambda: capture_environment(
            ws.root, project_packages(ws.root, ws.config.packages),
            environ={**os.environ, **plan.selector.env}, python=plan.interpreter.path,
        )
    )
    # Likewise what the record needs afterwards (Jinja2, the templates, the JUnit reader).
    snapshot_pool.submit(_prepare_record, renderer)

    history = row_history(ws, options.initiative, row)
    previous = previous_duration(ws, options.initiative, row, history, plan.selector.selector.text)
    echo(f"[ledger] {options.initiative} {row.id}: {plan.selector.selector.display}")
    echo(f"[ledger] evidence -> {ws.relative(folder)}/")
    result = run_streaming(
        RunRequest(
            argv=argv,
            env_overrides=plan.selector.env,
            cwd=ws.root,
            log_path=folder / "pytest.log",
            timeout_s=options.timeout_s,
            previous_duration_s=previous,
        ),
        echo,
    )
    _defer_sigint(echo)
    fault_point("tests-ran")
    remove_basetemp(folder)  # tests' tmp_path files are not evidence
    env = _snapshot_result(env_future, result.terminated)
    snapshot_pool.shutdown(wait=not result.terminated)
    env["interpreter"] = plan.interpreter.to_json()
    (folder / "env.json").write_text(json.dumps(env, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "env_snapshot.txt").write_text(render_snapshot_text(env), encoding="utf-8")
    counts = _read_counts(junit_path)
    log_text = _read_log(folder / "pytest.log")
    verdict = classify_outcome(
        result, counts, options.timeout_s, log_text, plan.selector.selector.args, (ws.root, ws.root.resolve()),
        expect=options.expect,
    )
    outcome, reason = verdict.outcome, verdict.reason
    if outcome is Outcome.TIMEOUT and options.timeout_is_default:
        reason = f"{reason} (ledger's default --timeout: pass --timeout N for a longer selector; the row is left as it is)"
    from ledger.reading.profile import verdict_for_new_run

    guardrail = verdict_for_new_run(ws, options.initiative, row.id, ws.relative(row.path), result.duration_s, outcome,
                                    plan.selector.selector.text, history)
    if guardrail:
        echo(f"[ledger] runtime guardrail: {guardrail}")
    git = env.get("git") or {}
    manifest = {
        **base_manifest,
        "outcome": outcome,
        "reason": reason,
        "exit_code": result.exit_code,
        "counts": counts,
        "log_summary": verdict.summary,
        "duration_s": round(result.duration_s, 3),
        "previous_duration_s": previous,
        "peak_rss_bytes": result.peak_rss_bytes,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "git_commit": git.get("commit"),
        "git_dirty": git.get("dirty"),
        "guardrail": guardrail,
    }
    context = _template_context(ws, options, plan, report, manifest, previous)
    (folder / "summary.md").write_text(renderer.render("summary.md.j2", **context, files=_listed_files(folder)), encoding="utf-8")
    files, regions = region_hashes(folder, hash_files(folder))
    manifest = {**manifest, "complete": True, "files": files, **({"regions": regions} if regions else {})}

    with with_lock():
        # Under the lock from here: the plan and the ledger as they are now (both re-read).
        ws.reload_path(row.path)
        state_before = row.state
        state_after = row.state
        state_changed = False
        from ledger.running.outcome import row_state_after

        new_state = {"done": DONE, "partial": PARTIAL, None: None}[row_state_after(outcome, options.flip_on_error)]
        if options.flip and new_state == PARTIAL and row.state == DONE and outcome is Outcome.NO_TESTS:
            new_state = None  # 0 collected says nothing about the work: never a demotion
        if outcome is Outcome.TIMEOUT and options.timeout_is_default and not options.flip_on_error:
            new_state = None  # ledger's own default limit, not one the user chose: a tooling limit, not a regression
        from ledger.editing.repair import clear_journal, write_journal

        flipping = options.flip and new_state is not None
        note = renderer.render("guidance_note.md.j2", **context).strip() if flipping else None
        replacing = previous_row_note(ws, options.initiative, row, history) if flipping else None
        item_title = _plan_title(ws, options.initiative, row)
        # What the record writes, kept until both edits are made: a run killed between them is
        # completed from it (ledger repair, or the next writing command).
        write_journal(ws.root, {
            "folder": ws.relative(folder) + "/", "initiative": options.initiative, "row": row.id,
            "phase": row.phase.key if row.phase else None, "plan": ws.relative(row.path),
            "new_state": {DONE: "done", PARTIAL: "partial"}.get(new_state) if flipping else None,
            "note": note, "replacing": replacing, "context": json.loads(json.dumps(context, default=str)),
            "item_title": item_title, "attempt_number": options.attempt_number,
            # The complete manifest too: a run killed before it is written still gets it.
            "manifest": json.loads(json.dumps(manifest, default=str)),
        })
        fault_point("record-start")
        write_manifest(folder, manifest)
        fault_point("after-manifest")
        if flipping:
            change = change_row(ws, row, new_state, note, replacing=replacing)
            state_before, state_after = change.state_before, change.state_after
            state_changed = True
            fault_point("after-row")
            if change.note:
                # Kept so the next run of this row can replace it (the manifest is not among the hashed files).
                write_manifest(folder, {**manifest, "row_note": change.note})
            fault_point("after-note")
        attempt = add_attempt(
            ws,
            options.initiative,
            lambda number, layout, style: renderer.render_lines(
                "attempt_global.md.j2" if layout == "global" else "attempt.md.j2", **context, **style, number=number
            ),
            item_title=item_title,
            number=options.attempt_number,
            fall_back=True,
        )
        fault_point("after-attempt")
        clear_journal(ws.root)
        run.finish()
        notices = []
        if attempt.requested is not None and attempt.number != attempt.requested:
            notices.append(
                f"attempt #{attempt.requested} was taken while the tests ran; recorded as #{attempt.number} instead "
                "(update whatever cites #{0})".format(attempt.requested)
            )
        result = DoResult(
            initiative=options.initiative,
            row=row.id,
            selector=plan.selector.selector.display,
            outcome=outcome,
            reason=reason,
            counts=counts,
            duration_s=round(result.duration_s, 3),
            report_dir=ws.relative(folder) + "/",
            state_before=state_before,
            state_after=state_after,
            attempt=attempt.number,
            exit_code=outcome.exit_code,
            argv=argv,
            env_overrides=plan.selector.env,
            guardrail=guardrail,
            state_changed=state_changed,
            notices=notices,
            python=plan.interpreter.to_json(),
        )
        if after_record is not None:
            after_record(result)
    return result


RECORD_TEMPLATES = ["summary.md.j2", "guidance_note.md.j2", "attempt.md.j2", "attempt_global.md.j2"]


# After SIGTERM the record must be complete before the sender's SIGKILL (commonly 5 s):
# a snapshot still probing (git on a large tree, a hung nvidia-smi) is not waited for.
TERMINATED_SNAPSHOT_WAIT_S = 1.0


def _snapshot_result(future, terminated: bool) -> dict:
    from concurrent.futures import TimeoutError as FutureTimeout

    try:
        return future.result(timeout=TERMINATED_SNAPSHOT_WAIT_S if terminated else None)
    except FutureTimeout:
        return {"captured": False, "why": "terminated (SIGTERM/SIGHUP) before the environment snapshot finished"}


def _prepare_record(renderer: Renderer) -> None:
    import ledger.reading.profile  # noqa: F401
    import ledger.running.junit  # noqa: F401
    import ledger.running.outcome  # noqa: F401

    renderer.load(RECORD_TEMPLATES)


def classify_outcome(result, counts: dict | None, timeout_s: float | None, log_text: str = "", args=(), roots=(), expect: str = "pass"):
    """The run's Verdict (outcome, reason, summary line) under ledger/running/outcome.py's rule."""
    from ledger.running.outcome import classify

    return classify(
        exit_code=result.exit_code, junit=counts, log_text=log_text, args=args,
        timed_out=result.timed_out, interrupted=result.interrupted, timeout_s=timeout_s, expect=expect, roots=roots,
    )


def _read_log(path: Path, limit: int = 1 << 20) -> str:
    """The log's text for classification: its head (collection errors) and tail (summary line)."""
    with path.open("rb") as handle:
        data = handle.read()
    if len(data) > 2 * limit:
        data = data[:limit] + b"\n" + data[-limit:]
    return data.decode("utf-8", errors="replace")


def _read_counts(junit_path: Path) -> dict | None:
    from ledger.running.junit import JUnitError, parse_junit

    try:
        counts = parse_junit(junit_path)
    except JUnitError:
        return None
    data = {
        "tests": counts.tests,
        "passed": counts.passed,
        "failed": counts.failed,
        "errors": counts.errors,
        "skipped": counts.skipped,
    }
    if counts.collection_errors:
        data["collection_errors"] = counts.collection_errors
    return data


def counts_text(counts: dict | None) -> str:
    if not counts:
        return ""
    parts = [f"{counts['passed']} passed"]
    for key in ("failed", "errors", "skipped"):
        if counts.get(key):
            parts.append(f"{counts[key]} {key}")
    return ", ".join(parts)


def format_bytes(value: int | None) -> str:
    if not value:
        return "n/a"
    return f"{value / (1 << 20):.1f} MiB"


def _listed_files(folder: Path) -> list[str]:
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    # The staged manifest (complete: false) is already in the folder; it is listed once, last.
    return [n for n in names if n not in ("summary.md", "manifest.json")] + ["summary.md", "manifest.json"]


def _template_context(ws, options, plan: DoPlan, report: ReportDir, manifest: dict, previous) -> dict:
    row = plan.row
    started = utc_now()
    artifacts_rel = ws.relative(report.path) + "/"
    return {
        "date": started.strftime("%Y-%m-%d"),
        "timestamp": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timestamp_minutes": started.strftime("%Y-%m-%dT%H:%MZ"),
        "entry_token": entry_token(),
        "initiative": options.initiative,
        "row": row.id,
        "row_label": row.label,
        "description": row.description,
        "phase_title": row.phase.title if row.phase else None,
        "plan_path": ws.relative(row.path),
        "plan_line": row.line,
        "selector": plan.selector.selector.display,
        "selector_source": plan.selector.source,
        "selector_overridden": plan.selector.source == "--selector",
        "expect": options.expect,
        "env_overrides": plan.selector.env,
        "python": plan.interpreter.path,
        "python_why": plan.interpreter.why,
        "outcome": manifest["outcome"],
        "outcome_title": Outcome(manifest["outcome"]).heading,
        "reason": manifest["reason"],
        "exit_code": manifest["exit_code"],
        "counts": manifest["counts"],
        "counts_text": counts_text(manifest["counts"]),
        "duration_s": manifest["duration_s"],
        "previous_duration_s": previous,
        "peak_rss_text": format_bytes(manifest["peak_rss_bytes"]),
        "commit": (manifest["git_commit"] or "")[:12] or None,
        "dirty": manifest["git_dirty"],
        "artifacts": artifacts_rel,
        "artifacts_from_initiative": report.from_initiative,
        "guardrail": manifest.get("guardrail"),
    }


def _plan_title(ws: Workspace, initiative: str, row: Row) -> str | None:
    # By initiative, not by the row's folder: a row of the ledger's checklist lives in docs/.
    for plan in ws.plans(initiative):
        if plan.path == row.path and plan.title:
            title = plan.title
            return title.split("—", 1)[1].strip() if "—" in title else title
    return None
