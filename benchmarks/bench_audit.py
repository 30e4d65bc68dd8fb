"""`ledger audit` on a large generated workspace, against a plain markdown-it-py parse of the same files.

200 initiatives, 5,000 rows, 20,000 attempts, 5,000 report folders (half with
manifests written the way `ledger do` writes them: sealed, with junit.xml, a log summary
line, times and a commit, so every cross-check of the audit runs). Reports the audit time
(parallel where the machine allows, and sequential: LEDGER_AUDIT_JOBS=1) and its ratio to
parsing every plan and the ledger with markdown-it-py; CPU times count the workers too.
Targets: audit under 2 s on this machine (`ledger audit` as a process), ratio under 3.
Also reports how long `ledger html` takes to write the dashboard of the same workspace (no target).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import median

INITIATIVES, ROWS_PER, ATTEMPTS_PER, REPORTS_PER = 200, 25, 100, 25


JUNIT = ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" '
         'skipped="0" tests="1"><testcase classname="tests.test_x" name="test_x" time="0.001" /></testsuite></testsuites>\n')


def build(root: Path) -> list[Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import subprocess

    from ledger.running.evidence import hash_files, write_manifest

    # A repository with one commit that every run records, so the audit's commit check runs.
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text("bench\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "README.md"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "bench", "--date", "2025-12-01T00:00:00Z"], cwd=root, check=True,
                   env={**os.environ, "GIT_COMMITTER_DATE": "2025-12-01T00:00:00Z"})
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True).stdout.strip()

    ledger_lines = ["# Fix Plan Ledger", ""]
    markdown_files = []
    for i in range(INITIATIVES):
        initiative = f"INIT-{i:03d}"
        folder = root / "plans/active" / initiative
        reports = folder / "reports"
        rows = []
        for r in range(ROWS_PER):
            row = f"A{r + 1}"
            day, hour, minute = 1 + r % 28, i % 24, r % 60
            timestamp = f"2026-01-{day:02d}T{hour:02d}{minute:02d}00Z"
            hub = reports / timestamp / "phase_a_work"
            hub.mkdir(parents=True)
            (hub / "pytest.log").write_text(f"{row}\n============================== 1 passed in 0.01s ===============================\n")
            (hub / "summary.md").write_text(f"# {initiative} {row}\n")
            if r % 2 == 0:
                # Written the way `ledger do` writes it: sealed, with JUnit, counts, times and commit.
                (hub / "junit.xml").write_text(JUNIT)
                manifest = {"version": 2, "complete": True, "tool": "ledger do", "initiative": initiative, "row": row,
                            "plan": f"plans/active/{initiative}/implementation.md",
                            "selector": f"pytest tests/test_{r}.py::test_x -q", "outcome": "passed", "exit_code": 0,
                            "counts": {"tests": 1, "passed": 1, "failed": 0, "errors": 0, "skipped": 0},
                            "duration_s": 1.0 + r / 10, "started_at": f"2026-01-{day:02d}T{hour:02d}:{minute:02d}:01Z",
                            "finished_at": f"2026-01-{day:02d}T{hour:02d}:{minute:02d}:03Z", "git_commit": head}
                manifest["files"] = hash_files(hub)
                write_manifest(hub, manifest)
            state = "[x]" if r % 3 else "[ ]"
            rows.append(f"| {row} | Task {r} with `code \\| pipe` | {state} | Run `pytest tests/test_{r}.py::test_x -q`. "
                        f"Artifacts: `reports/{timestamp}/phase_a_work/{{pytest.log,summary.md}}` (POLICY-001) |")
        plan = folder / "implementation.md"
        plan.write_text(
            f"# {initiative} — generated\n\n### Phase A — Work\n| ID | Task Description | State | How/Why & Guidance |\n"
            "| --- | --- | --- | --- |\n" + "\n".join(rows) + "\n",
            encoding="utf-8",
        )
        markdown_files.append(plan)
        ledger_lines += [f"## [{initiative}] Generated item", "- Status: in_progress", "- Attempts History:"]
        for a in range(ATTEMPTS_PER):
            row = f"A{a % ROWS_PER + 1}"
            ledger_lines.append(f"  * [2026-01-{1 + a % 28:02d}] Attempt #{a} — Phase A.{row}: ran the selector; "
                                f"see `reports/2026-01-{1 + a % 28:02d}T000000Z/phase_a_work/summary.md`.")
        ledger_lines.append("")
    (root / "docs").mkdir(parents=True)
    (root / "docs/fix_plan.md").write_text("\n".join(ledger_lines), encoding="utf-8")
    (root / "docs/findings.md").write_text("| Finding ID | Synopsis |\n| --- | --- |\n| POLICY-001 | x |\n", encoding="utf-8")
    return [*markdown_files, root / "docs/fix_plan.md"]


def process_tree_cpu() -> float:
    """CPU seconds of this process and of its children waited for (a parallel audit's
    workers, git): time.process_time alone misses the workers' share."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def time_audit(root: Path, jobs: str | None = None) -> tuple[float, dict]:
    """Wall seconds of one audit; `jobs`: LEDGER_AUDIT_JOBS for it ("1": sequential)."""
    from ledger.reading.audit import audit_workspace
    from ledger.reading.audit.fork import JOBS_ENV
    from ledger.workspace import Workspace

    before = os.environ.get(JOBS_ENV)
    if jobs is not None:
        os.environ[JOBS_ENV] = jobs
    try:
        start = time.perf_counter()
        report = audit_workspace(Workspace.open(root))
        elapsed = time.perf_counter() - start
    finally:
        if before is None:
            os.environ.pop(JOBS_ENV, None)
        else:
            os.environ[JOBS_ENV] = before
    return elapsed, report.counts()


def time_audit_process(root: Path) -> float:
    """Wall seconds of `ledger audit` as a loop runs it: a process, imports, start-up and exit
    included (the in-process time above leaves those out)."""
    import subprocess

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ledger", "audit", "--root", str(root)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def time_audit_cpu(root: Path, crosschecks: bool = True) -> float:
    """CPU seconds of one audit (steadier than wall time on a shared machine), with or
    without the cross-checks, so their cost is a ratio measured in the same conditions."""
    from unittest import mock

    from ledger.reading.audit import audit_workspace
    from ledger.reading.audit.crosscheck import CrossChecker
    from ledger.workspace import Workspace

    patches = [] if crosschecks else [
        mock.patch.object(CrossChecker, "run_failures", lambda self, check: []),
        mock.patch.object(CrossChecker, "row_failures", lambda self, check, row, plan: []),
        mock.patch.object(CrossChecker, "is_future", lambda self, check: False),
        mock.patch.object(CrossChecker, "want_commits", lambda self, checks: None),
        mock.patch("ledger.reading.audit.integrity.check_seal", lambda manifest, keys: (None, None)),
    ]
    for patch in patches:
        patch.start()
    try:
        start = process_tree_cpu()
        audit_workspace(Workspace.open(root))
        return process_tree_cpu() - start
    finally:
        for patch in patches:
            patch.stop()


def time_html(root: Path) -> float:
    from ledger.html.site import build_site
    from ledger.workspace import Workspace

    start = time.perf_counter()
    build_site(Workspace.open(root), root / "site")
    return time.perf_counter() - start


def time_markdown_it(files: list[Path]) -> float:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    start = time.perf_counter()
    for path in files:
        parser.parse(path.read_text(encoding="utf-8"))
    return time.perf_counter() - start


def main(repeat: int = 3) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = build(root)
        audits, sequential, processes, counts = [], [], [], {}
        parses = []
        cpu_on, cpu_off = [], []
        for _ in range(repeat):
            elapsed, counts = time_audit(root)
            audits.append(elapsed)
            sequential.append(time_audit(root, jobs="1")[0])
            processes.append(time_audit_process(root))
            parses.append(time_markdown_it(files))
            cpu_off.append(time_audit_cpu(root, crosschecks=False))
            cpu_on.append(time_audit_cpu(root, crosschecks=True))
        html_s = time_html(root)
    audit_s, parse_s = median(audits), median(parses)
    return {
        "initiatives": INITIATIVES,
        "rows": INITIATIVES * ROWS_PER,
        "attempts": INITIATIVES * ATTEMPTS_PER,
        "report_dirs": INITIATIVES * REPORTS_PER,
        "audit_s": round(audit_s, 3),
        "audit_sequential_s": round(median(sequential), 3),  # LEDGER_AUDIT_JOBS=1
        "audit_process_s": round(median(processes), 3),  # `ledger audit` as a process: the target's measure
        "markdown_it_parse_s": round(parse_s, 3),
        "ratio": round(audit_s / parse_s, 2),
        "audit_cpu_s": round(median(cpu_on), 3),
        "audit_cpu_without_crosschecks_s": round(median(cpu_off), 3),
        "crosscheck_cost_ratio": round(median(cpu_on) / median(cpu_off), 3),
        "targets": {"audit_s": 2.0, "ratio": 3.0},
        "html_s": round(html_s, 3),
        "classes": counts,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
