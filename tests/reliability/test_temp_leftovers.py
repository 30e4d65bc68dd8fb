"""Temp files a killed ledger leaves (`.<name>.XXXXXXXX.tmp` beside the file it was writing,
`.<slug>.XXXXXXXX.tmp/` report staging folders): audit reports them, the next writing command
removes those beside plans and the ledger, and `init --git` keeps them out of git (issue 11)."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import git
from tests.integration.workspace_factory import make_workspace
from tests.reliability.helpers import LEDGER_FILE, PLAN_FILE, cli


def leave_temp_files(root):
    plan_temp = (root / PLAN_FILE).parent / ".implementation.md.k3j_9xq2.tmp"
    ledger_temp = (root / LEDGER_FILE).parent / ".fix_plan.md.a1b2c3d4.tmp"
    staging = root / "plans/active/DEMO-001/reports/2026-01-01T000000Z/.phase_a.zz99yy88.tmp"
    plan_temp.write_text("half a plan")
    ledger_temp.write_text("half a ledger")
    staging.mkdir(parents=True)
    (staging / "manifest.json").write_text('{"complete": false}')
    return plan_temp, ledger_temp, staging


def leftovers_reported(root) -> set[str]:
    result = cli(root, "audit", "--json")
    data = json.loads(result.stdout)
    issues = data["issues"] if isinstance(data, dict) and "issues" in data else []
    return {issue["file"] for issue in issues if issue["kind"] == "temp_leftover"}


def test_audit_reports_temp_files_and_the_next_write_removes_them(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    plan_temp, ledger_temp, staging = leave_temp_files(root)
    assert leftovers_reported(root) == {
        "plans/active/DEMO-001/.implementation.md.k3j_9xq2.tmp",
        "docs/.fix_plan.md.a1b2c3d4.tmp",
        "plans/active/DEMO-001/reports/2026-01-01T000000Z/.phase_a.zz99yy88.tmp",
    }
    text = cli(root, "audit").stdout
    assert "temp files a killed ledger left (3)" in text
    assert "plans/active/DEMO-001/reports/2026-01-01T000000Z/.phase_a.zz99yy88.tmp: a temp folder a killed ledger left" in text
    # A read-only command leaves them; the next writing command removes those beside the files it writes.
    assert cli(root, "status").returncode == 0 and plan_temp.exists()
    assert cli(root, "mark", "DEMO-001", "A2", "partial").returncode == 0
    assert not plan_temp.exists() and not ledger_temp.exists()
    assert leftovers_reported(root) == {"plans/active/DEMO-001/reports/2026-01-01T000000Z/.phase_a.zz99yy88.tmp"}
    # Look-alikes that are not ledger temp files stay.
    keep = [(root / PLAN_FILE).parent / "notes.tmp", (root / PLAN_FILE).parent / ".hidden.md"]
    for path in keep:
        path.write_text("mine")
    assert cli(root, "attempt", "add", "DEMO-001", "--summary", "s").returncode == 0
    assert all(path.exists() for path in keep)


def test_init_git_ignores_temp_files(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=True)
    assert cli(root, "init", "--git").returncode == 0
    assert ".*.tmp" in (root / ".gitignore").read_text().splitlines()
    git(root, "add", ".gitignore")
    git(root, "commit", "-q", "-m", "ignore")
    leave_temp_files(root)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert ".tmp" not in status, status
