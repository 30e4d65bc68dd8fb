"""What a `ledger do` run leaves behind, in the order it is made.

1. `stage_run`: the evidence folder and its staged manifest (complete: false) before the
   tests start, and the environment snapshot started alongside them;
2. `write_evidence`: once the tests ended (no lock held), the folder's files: env.json,
   env_snapshot.txt, summary.md, and the complete manifest (not yet written);
3. `record_in_plan`: under the workspace lock, the journal, the manifest, the row's new state
   and note, and the attempt in the ledger, then the journal cleared.

ledger/running/do.py strings these together with the test run itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.documents.fix_plan import LedgerLayout, entry_token
from ledger.documents.plan import Row
from ledger.documents.states import RowState
from ledger.render import Renderer
from ledger.running.evidence import (
    MANIFEST_VERSION,
    ReportDir,
    counts_for_baseline,
    create_report_dir,
    row_manifests,
    utc_now,
    write_manifest,
)
from ledger.running.outcome import Expectation
from ledger.workspace import Workspace

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from ledger.editing.repair import RunClaim
    from ledger.running.do import DoOptions, PreparedRun
    from ledger.running.outcome import Outcome
    from ledger.running.runner import RunResult

Echo = Callable[[str], None]

RECORD_TEMPLATES = ["summary.md.j2", "guidance_note.md.j2", "attempt.md.j2", "attempt_global.md.j2"]


@dataclass
class StagedRun:
    """The evidence folder as the tests start: created, its staged manifest written."""

    report: ReportDir
    argv: list[str]
    manifest: dict  # the staged manifest (complete: false)
    renderer: Renderer
    snapshot_pool: ThreadPoolExecutor
    environment: Future  # the snapshot, taken while the tests run
    # (the row's earlier runs (folder, manifest) oldest first, the previous passing duration):
    # read while the tests start, as a long loop's report root holds hundreds of manifests.
    earlier: Future

    @property
    def folder(self) -> Path:
        return self.report.path

    @property
    def history(self) -> list:
        return self.earlier.result()[0]

    @property
    def previous_duration_s(self) -> float | None:
        return self.earlier.result()[1]

    def previous_for_echo(self) -> float | None:
        """The previous duration for the runner's progress lines, which must never fail the run
        (a failed read is raised where the record needs the history)."""
        try:
            return self.previous_duration_s
        except Exception:
            return None


@dataclass
class Evidence:
    """The run's files written; `manifest` is the complete one, written under the lock."""

    manifest: dict
    context: dict  # what the templates are rendered with
    outcome: Outcome
    reason: str | None
    counts: dict | None
    guardrail: str | None


@dataclass
class Recorded:
    """What the record changed in the plan and the ledger."""

    state_before: str | None
    state_after: str | None
    state_changed: bool
    attempt: int | None
    notices: list[str] = field(default_factory=list)


def stage_run(
    ws: Workspace, options: DoOptions, prepared: PreparedRun, claim: RunClaim
) -> StagedRun:
    """Create the evidence folder (claimed by this run's registration, `claim`), write its
    staged manifest, start what can be done while the tests run (`_start_background`)."""
    from ledger.editing.repair import fault_point
    from ledger.running.runner import pytest_argv
    from ledger.running.selector_policy import ledger_run_options

    row = prepared.row
    renderer = Renderer(ws.templates_dir)
    # Before the report folder exists and the tests run: a missing template must not leave a
    # half-written folder behind after minutes of testing.
    renderer.require(RECORD_TEMPLATES)
    chosen = prepared.chosen_folder

    def claimed(folder: Path, staging: Path) -> None:
        claim.claim(folder, staging)
        fault_point("report-claimed")

    report = create_report_dir(
        ws.root,
        ws.report_root(options.initiative),
        prepared.report_dir.slug,
        utc_now(),
        chosen.at if chosen else None,
        run_id=claim.token,
        claim=claimed,
    )
    fault_point("report-created")
    folder = report.path
    args = prepared.selector.selector.args
    argv = pytest_argv(
        ["pytest", *args],
        folder / "junit.xml",
        ledger_run_options(ws.root, folder, args),
        python=prepared.interpreter.path,
    )
    manifest = {
        "version": MANIFEST_VERSION,
        "complete": False,
        "tool": "ledger do",
        "initiative": options.initiative,
        "row": row.id,
        "phase": row.phase.key if row.phase else None,
        "plan": ws.relative(row.path),
        "selector": prepared.selector.selector.text,
        "selector_source": prepared.selector.source,
        "tdd": Expectation(options.expect).tdd_step,
        "argv": argv,
        "python": prepared.interpreter.to_json(),
        "env_overrides": prepared.selector.env,
        # A folder dated before the run (chosen by the supervisor): its time is the choice's, not the run's.
        "report_dir_chosen": {"by": chosen.by, "timestamp": chosen.at} if chosen else None,
        "directive": options.from_input
        and ws.relative(
            Path(options.from_input)
            if Path(options.from_input).is_absolute()
            else ws.root / options.from_input
        ),
        "started_at": report.timestamp
        if chosen is None
        else utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run_id": claim.token,  # names its registration while it runs (ledger.editing.repair.RunClaim)
    }
    # Written first so a run killed half-way leaves a folder that says so.
    write_manifest(folder, manifest)
    return StagedRun(
        report, argv, manifest, renderer, *_start_background(ws, options, prepared, renderer)
    )


def _start_background(ws: Workspace, options: DoOptions, prepared: PreparedRun, renderer: Renderer):
    """What the record needs but the tests do not wait for, done while they run: the row's
    history, the environment snapshot (package metadata, git, nvidia-smi), and loading Jinja2,
    the templates and the JUnit reader. Before the run they would add their whole cost to
    every `ledger do`. One worker, in that order: the history is asked for first."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-env")
    row, selector = prepared.row, prepared.selector.selector.text

    def earlier() -> tuple[list, float | None]:
        history = row_history(ws, options.initiative, row)
        return history, previous_duration(ws, options.initiative, row, history, selector)

    def snapshot() -> dict:
        from ledger.running.environment import capture_environment, project_packages

        # The package list (a scan of the workspace when no settings name it) is made here too.
        warm = options.warm
        return capture_environment(
            ws.root,
            project_packages(ws.root, ws.config.packages),
            environ={**os.environ, **prepared.selector.env},
            python=prepared.interpreter.path,
            # The pre-started interpreter listed its own: no extra interpreter beside the tests.
            reported=warm.snapshot
            if warm is not None and warm.python == prepared.interpreter.path
            else None,
        )

    history = pool.submit(earlier)
    environment = pool.submit(snapshot)
    pool.submit(_prepare_record, renderer)
    return pool, environment, history


def write_evidence(
    ws: Workspace,
    options: DoOptions,
    prepared: PreparedRun,
    staged: StagedRun,
    run: RunResult,
    echo: Echo,
) -> Evidence:
    """The folder's files once the tests ended: the snapshot, the outcome, summary.md and the
    hashes of everything in it (the complete manifest is returned, written by the record)."""
    from ledger.running.evidence import remove_basetemp
    from ledger.running.outcome import Outcome

    folder = staged.folder
    remove_basetemp(folder)  # tests' tmp_path files are not evidence
    env = _write_snapshot(folder, staged, prepared, run.terminated)
    counts = read_counts(folder / "junit.xml")
    verdict = classify_outcome(
        run,
        counts,
        options.timeout_s,
        read_log(folder / "pytest.log"),
        prepared.selector.selector.args,
        (ws.root, ws.root.resolve()),
        expect=options.expect,
    )
    outcome, reason = verdict.outcome, verdict.reason
    if outcome is Outcome.TIMEOUT and options.timeout_is_default:
        reason = f"{reason} (ledger's default --timeout: pass --timeout N for a longer selector; the row is left as it is)"
    from ledger.reading.profile import verdict_for_new_run

    row = prepared.row
    guardrail = verdict_for_new_run(
        ws,
        options.initiative,
        row.id,
        ws.relative(row.path),
        run.duration_s,
        outcome,
        prepared.selector.selector.text,
        staged.history,
    )
    if guardrail:
        echo(f"[ledger] runtime guardrail: {guardrail}")
    git = env.get("git") or {}
    manifest = {
        **staged.manifest,
        "outcome": outcome,
        "reason": reason,
        "exit_code": run.exit_code,
        "counts": counts,
        "log_summary": verdict.summary,
        "duration_s": round(run.duration_s, 3),
        "previous_duration_s": staged.previous_duration_s,
        "peak_rss_bytes": run.peak_rss_bytes,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "git_commit": git.get("commit"),
        "git_dirty": git.get("dirty"),
        "guardrail": guardrail,
    }
    context = template_context(
        ws, options, prepared, staged.report, manifest, staged.previous_duration_s
    )
    (folder / "summary.md").write_text(
        staged.renderer.render("summary.md.j2", **context, files=_listed_files(folder)),
        encoding="utf-8",
    )
    manifest = {**manifest, "complete": True, **_hashed(folder)}
    return Evidence(manifest, context, outcome, reason, counts, guardrail)


def _write_snapshot(
    folder: Path, staged: StagedRun, prepared: PreparedRun, terminated: bool
) -> dict:
    """env.json and env_snapshot.txt from the snapshot taken while the tests ran."""
    from ledger.running.environment import render_snapshot_text

    env = _snapshot_result(staged.environment, terminated)
    staged.snapshot_pool.shutdown(wait=not terminated)
    env["interpreter"] = prepared.interpreter.to_json()
    (folder / "env.json").write_text(
        json.dumps(env, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "env_snapshot.txt").write_text(render_snapshot_text(env), encoding="utf-8")
    return env


def _hashed(folder: Path) -> dict:
    """The manifest's `files` (and `regions`, for a file with a marked record region)."""
    from ledger.running.evidence import hash_files, region_hashes

    files, regions = region_hashes(folder, hash_files(folder))
    return {"files": files, **({"regions": regions} if regions else {})}


def record_in_plan(
    ws: Workspace,
    options: DoOptions,
    prepared: PreparedRun,
    staged: StagedRun,
    evidence: Evidence,
    claim: RunClaim,
) -> Recorded:
    """Under the workspace lock: the plan and the ledger as they are now (both re-read), a
    journal first so a record killed half-way is completed later (`ledger repair`); the run's
    registration (`claim`) ends with the record."""
    from ledger.editing.bookkeeping import add_attempt, change_row
    from ledger.editing.repair import clear_journal, fault_point, write_journal

    row, folder, context, manifest = (
        prepared.row,
        staged.folder,
        evidence.context,
        evidence.manifest,
    )
    ws.reload_path(row.path)
    state_before = state_after = row.state
    state_changed = False
    new_state = _new_state(options, row, evidence.outcome)
    flipping = options.flip and new_state is not None
    note = staged.renderer.render("guidance_note.md.j2", **context).strip() if flipping else None
    replacing = previous_row_note(ws, options.initiative, row, staged.history) if flipping else None
    item_title = _plan_title(ws, options.initiative, row)
    # What the record writes, kept until both edits are made: a run killed between them is
    # completed from it (ledger repair, or the next writing command).
    write_journal(
        ws.root,
        {
            "folder": ws.relative(folder) + "/",
            "initiative": options.initiative,
            "row": row.id,
            "phase": row.phase.key if row.phase else None,
            "plan": ws.relative(row.path),
            "new_state": new_state if flipping else None,
            "note": note,
            "replacing": replacing,
            "context": json.loads(json.dumps(context, default=str)),
            "item_title": item_title,
            "attempt_number": options.attempt_number,
            # The complete manifest too: a run killed before it is written still gets it.
            "manifest": json.loads(json.dumps(manifest, default=str)),
        },
    )
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
        lambda number, layout, style: staged.renderer.render_lines(
            "attempt_global.md.j2" if layout == LedgerLayout.GLOBAL else "attempt.md.j2",
            **context,
            **style,
            number=number,
        ),
        item_title=item_title,
        number=options.attempt_number,
        fall_back=True,
    )
    fault_point("after-attempt")
    clear_journal(ws.root)
    claim.finish()
    notices = []
    if attempt.requested is not None and attempt.number != attempt.requested:
        notices.append(
            f"attempt #{attempt.requested} was taken while the tests ran; recorded as #{attempt.number} instead "
            "(update whatever cites #{0})".format(attempt.requested)
        )
    return Recorded(state_before, state_after, state_changed, attempt.number, notices)


def _new_state(options: DoOptions, row: Row, outcome: Outcome) -> RowState | None:
    """The row's state after this outcome, or None to leave it."""
    from ledger.running.outcome import Outcome, row_state_after

    new_state = row_state_after(outcome, options.flip_on_error)
    if (
        options.flip
        and new_state == RowState.PARTIAL
        and row.state == RowState.DONE
        and outcome is Outcome.NO_TESTS
    ):
        new_state = None  # 0 collected says nothing about the work: never a demotion
    if outcome is Outcome.TIMEOUT and options.timeout_is_default and not options.flip_on_error:
        new_state = None  # ledger's own default limit, not one the user chose: a tooling limit, not a regression
    return new_state


def previous_row_note(
    ws: Workspace, initiative: str, row: Row, history: list | None = None
) -> str | None:
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


def previous_duration(
    ws: Workspace,
    initiative: str,
    row: Row,
    history: list | None = None,
    selector: str | None = None,
) -> float | None:
    history = row_history(ws, initiative, row) if history is None else history
    for _, manifest in reversed(history):
        if counts_for_baseline(manifest, selector):
            return float(manifest["duration_s"])
    return None


# After SIGTERM the record must be complete before the sender's SIGKILL (commonly 5 s):
# a snapshot still probing (git on a large tree, a hung nvidia-smi) is not waited for.
TERMINATED_SNAPSHOT_WAIT_S = 1.0


def _snapshot_result(future, terminated: bool) -> dict:
    from concurrent.futures import TimeoutError as FutureTimeout

    try:
        return future.result(timeout=TERMINATED_SNAPSHOT_WAIT_S if terminated else None)
    except FutureTimeout:
        return {
            "captured": False,
            "why": "terminated (SIGTERM/SIGHUP) before the environment snapshot finished",
        }


def _prepare_record(renderer: Renderer) -> None:
    import ledger.reading.profile  # noqa: F401
    import ledger.running.junit  # noqa: F401
    import ledger.running.outcome  # noqa: F401

    renderer.load(RECORD_TEMPLATES)


def classify_outcome(
    result,
    counts: dict | None,
    timeout_s: float | None,
    log_text: str = "",
    args=(),
    roots=(),
    expect: str = Expectation.PASS,
):
    """The run's Verdict (outcome, reason, summary line) under ledger/running/outcome.py's rule."""
    from ledger.running.outcome import classify

    return classify(
        exit_code=result.exit_code,
        junit=counts,
        log_text=log_text,
        args=args,
        timed_out=result.timed_out,
        interrupted=result.interrupted,
        timeout_s=timeout_s,
        expect=expect,
        roots=roots,
    )


def read_log(path: Path, limit: int = 1 << 20) -> str:
    """The log's text for classification: its head (collection errors) and tail (summary line)."""
    with path.open("rb") as handle:
        data = handle.read()
    if len(data) > 2 * limit:
        data = data[:limit] + b"\n" + data[-limit:]
    return data.decode("utf-8", errors="replace")


def read_counts(junit_path: Path) -> dict | None:
    """The JUnit XML's counts as the manifest keeps them; None without a readable report."""
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
    return [n for n in names if n not in ("summary.md", "manifest.json")] + [
        "summary.md",
        "manifest.json",
    ]


def template_context(
    ws, options, prepared: PreparedRun, report: ReportDir, manifest: dict, previous
) -> dict:
    """What summary.md, the row's note and the attempt are rendered with."""
    from ledger.running.outcome import Outcome

    row = prepared.row
    started = utc_now()
    artifacts_rel = ws.relative(report.path) + "/"
    return {
        "date": started.strftime("%Y-%m-%d"),
        "timestamp": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timestamp_minutes": started.strftime("%Y-%m-%dT%H:%MZ"),
        "entry_token": entry_token(),
        "initiative": options.initiative,
        # The reference, as `attempt add` writes it: a repeated id (`B.C1`) stays unambiguous.
        "row": row.ref,
        "row_label": row.label,
        "description": row.description,
        "phase_title": row.phase.title if row.phase else None,
        "plan_path": ws.relative(row.path),
        "plan_line": row.line,
        "selector": prepared.selector.selector.display,
        "selector_source": prepared.selector.source,
        "selector_overridden": prepared.selector.source == "--selector",
        "expect": options.expect,
        "env_overrides": prepared.selector.env,
        "python": prepared.interpreter.path,
        "python_why": prepared.interpreter.why,
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
