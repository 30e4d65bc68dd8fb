"""A temp workspace with recorded runs (manifests shaped like `ledger do` writes) for the site tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from ledger.running.evidence import MANIFEST_VERSION, TIMESTAMP_FORMAT, hash_files, write_manifest
from tests.integration.workspace_factory import make_workspace

# (row, phase slug, outcome, duration_s) in run order.
RUNS = [
    ("A1", "phase_a_assessment", "passed", 10.2),
    ("A1", "phase_a_assessment", "passed", 11.0),
    ("A1", "phase_a_assessment", "passed", 9.8),
    ("A1", "phase_a_assessment", "passed", 10.5),
    ("A1", "phase_a_assessment", "failed", 19.0),
    ("A1", "phase_a_assessment", "passed", 12.1),
    ("A1", "phase_a_assessment", "passed", 27.5),
    ("A2", "phase_a_assessment", "failed", 3.2),
    ("A2", "phase_a_assessment", "passed", 2.9),
    ("A6", "phase_a_assessment", "passed", 31.0),
]

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def record_run(root: Path, initiative: str, row: str, slug: str, outcome: str, duration: float, when: datetime,
               plan: str = "plans/active/DEMO-001/implementation.md") -> Path:
    timestamp = when.strftime(TIMESTAMP_FORMAT)
    folder = root / "plans/active" / initiative / "reports" / timestamp / slug
    folder.mkdir(parents=True)
    (folder / "pytest.log").write_text(f"{outcome} in {duration}s\n", encoding="utf-8")
    (folder / "summary.md").write_text(f"# {row} {outcome}\n", encoding="utf-8")
    (folder / "env.json").write_text("{}\n", encoding="utf-8")
    passed = outcome == "passed"
    finished = when + timedelta(seconds=duration)
    manifest = {
        "version": MANIFEST_VERSION,
        "complete": True,
        "tool": "ledger do",
        "initiative": initiative,
        "row": row,
        "phase": row[0],
        "plan": plan,
        "selector": f"pytest tests/test_demo.py::test_{row.lower()} -q",
        "selector_source": f"{plan}:1",
        "argv": ["pytest"],
        "env_overrides": {},
        "started_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "outcome": outcome,
        "reason": None if passed else "1 failed, 0 errors of 1 tests",
        "exit_code": 0 if passed else 1,
        "counts": {"tests": 1, "passed": 1 if passed else 0, "failed": 0 if passed else 1, "errors": 0, "skipped": 0},
        "duration_s": duration,
        "previous_duration_s": None,
        "peak_rss_bytes": 50 << 20,
        "finished_at": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": "0" * 40,
        "git_dirty": False,
    }
    manifest["files"] = hash_files(folder)
    write_manifest(folder, manifest)
    return folder


def make_site_workspace(root: Path, runs=RUNS) -> Path:
    make_workspace(root, git_repo=False)
    plan = root / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text(encoding="utf-8").replace("Prose only.", f"Prose only. {HOSTILE}"), encoding="utf-8")
    # A second, checklist-style initiative without runs.
    (root / "plans/active/OTHER-002").mkdir(parents=True)
    (root / "plans/active/OTHER-002/implementation.md").write_text(
        "# OTHER-002 — Second initiative\n\n### Phase A — Setup\n"
        "- [x] A1: Done thing `pytest tests/test_demo.py::test_ok`.\n"
        "- [P] A2: Half-done thing.\n- [ ] A3: Open thing.\n\n"
        "### Phase B — Later\n- [ ] B1: Later thing.\n",
        encoding="utf-8",
    )
    start = datetime(2026, 11, 1, 8, 0, 0, tzinfo=timezone.utc)
    for index, (row, slug, outcome, duration) in enumerate(runs):
        record_run(root, "DEMO-001", row, slug, outcome, duration, start + timedelta(hours=index))
    return root
