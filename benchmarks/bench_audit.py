"""`ledger audit` on a large generated workspace, against a plain markdown-it-py parse of the same files.

200 initiatives, 5,000 rows, 20,000 attempts, 5,000 report folders (half with
manifests written the way `ledger do` writes them). Reports the audit time and
its ratio to parsing every plan and the ledger with markdown-it-py.
Targets: audit under 2 s on this machine, ratio under 3. Also reports how long
`ledger html` takes to write the dashboard of the same workspace (no target).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from common import median

INITIATIVES, ROWS_PER, ATTEMPTS_PER, REPORTS_PER = 200, 25, 100, 25


def build(root: Path) -> list[Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ledger.evidence import hash_files

    ledger_lines = ["# Fix Plan Ledger", ""]
    markdown_files = []
    for i in range(INITIATIVES):
        initiative = f"INIT-{i:03d}"
        folder = root / "plans/active" / initiative
        reports = folder / "reports"
        rows = []
        for r in range(ROWS_PER):
            row = f"A{r + 1}"
            timestamp = f"2026-01-{1 + r % 28:02d}T{i % 24:02d}{r % 60:02d}00Z"
            hub = reports / timestamp / "phase_a_work"
            hub.mkdir(parents=True)
            (hub / "pytest.log").write_text(f"{row} 1 passed\n")
            (hub / "summary.md").write_text(f"# {initiative} {row}\n")
            if r % 2 == 0:
                manifest = {"complete": True, "row": row, "plan": f"plans/active/{initiative}/implementation.md",
                            "outcome": "passed", "duration_s": 1.0 + r / 10, "started_at": timestamp}
                manifest["files"] = hash_files(hub)
                (hub / "manifest.json").write_text(json.dumps(manifest))
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


def time_audit(root: Path) -> tuple[float, dict]:
    from ledger.audit import audit_workspace
    from ledger.workspace import Workspace

    start = time.perf_counter()
    report = audit_workspace(Workspace.open(root))
    elapsed = time.perf_counter() - start
    return elapsed, report.counts()


def time_html(root: Path) -> float:
    from ledger.site import build_site
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
        audits, counts = [], {}
        parses = []
        for _ in range(repeat):
            elapsed, counts = time_audit(root)
            audits.append(elapsed)
            parses.append(time_markdown_it(files))
        html_s = time_html(root)
    audit_s, parse_s = median(audits), median(parses)
    return {
        "initiatives": INITIATIVES,
        "rows": INITIATIVES * ROWS_PER,
        "attempts": INITIATIVES * ATTEMPTS_PER,
        "report_dirs": INITIATIVES * REPORTS_PER,
        "audit_s": round(audit_s, 3),
        "markdown_it_parse_s": round(parse_s, 3),
        "ratio": round(audit_s / parse_s, 2),
        "targets": {"audit_s": 2.0, "ratio": 3.0},
        "html_s": round(html_s, 3),
        "classes": counts,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
