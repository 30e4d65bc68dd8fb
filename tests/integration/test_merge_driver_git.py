"""Two loops on two clones append attempts and flip rows, then a real `git merge`.

The driver is registered with `ledger init --git` in each clone (git config is
per clone) as `<this python> -m ledger merge-driver %O %A %B %P`, so git finds it
without the venv on PATH (git runs here with a PATH that lacks it).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import git
from tests.integration.workspace_factory import make_workspace

BIN = str(Path(sys.executable).parent)


def ledger(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--root", str(ws)])
    assert result.exit_code == 0, result.output
    return result.output


def git_env(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    # Without the venv's bin: the driver must not depend on PATH.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != BIN)
    env = {**os.environ, "PATH": path}
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=check,
    )


@pytest.fixture
def clones(tmp_path):
    seed = make_workspace(tmp_path / "seed")
    ledger(seed, "init", "--git")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "ledger init --git")
    git(tmp_path, "clone", "-q", "--bare", str(seed), "origin.git")
    machines = []
    for name in ("a", "b"):
        git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), name)
        ledger(tmp_path / name, "init", "--git")
        assert git(tmp_path / name, "status", "--porcelain") == ""  # init changed no tracked file
        machines.append(tmp_path / name)
    return machines


def loop_step(ws: Path, who: str, row: str, state: str) -> None:
    ledger(ws, "mark", "DEMO-001", row, state, "--note", f"{who} says {state}")
    ledger(ws, "attempt", "add", "DEMO-001", "--row", row, "--summary", f"{who} ran {row}")
    git(ws, "commit", "-qam", f"{who} loop")


def test_concurrent_loops_merge_without_conflict_markers(clones):
    a, b = clones
    loop_step(a, "machine-a", "A1", "done")
    loop_step(a, "machine-a", "A2", "done")
    git_env(a, "push", "-q", "origin", "main")
    loop_step(b, "machine-b", "A1", "partial")
    loop_step(b, "machine-b", "A3", "done")
    git_env(b, "fetch", "-q", "origin")
    merged = git_env(b, "merge", "--no-edit", "origin/main", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert git(b, "status", "--porcelain") == ""
    ledger_text = (b / "docs/fix_plan.md").read_text()
    plan = (b / "plans/active/DEMO-001/implementation.md").read_text()
    assert "<<<<<<<" not in ledger_text + plan and ">>>>>>>" not in ledger_text + plan
    attempts = [line.strip() for line in ledger_text.splitlines() if "Attempt #" in line]
    # Ours (b) keep #2 and #3; the incoming ones from a follow as #4 and #5.
    assert [a.split(" — ")[1] for a in attempts[2:]] == [
        "Phase A.A1 machine-b ran A1", "Phase A.A3 machine-b ran A3",
        "Phase A.A1 machine-a ran A1", "Phase A.A2 machine-a ran A2",
    ]
    assert [a.split("Attempt #")[1].split(" ")[0] for a in attempts] == ["0", "1", "2", "3", "4", "5"]
    row_a1 = next(line for line in plan.splitlines() if line.startswith("| A1 "))
    assert "| [P] |" in row_a1 and "machine-a says done" in row_a1 and "machine-b says partial" in row_a1
    assert next(line for line in plan.splitlines() if line.startswith("| A2 ")).count("| [x] |") == 1
    assert next(line for line in plan.splitlines() if line.startswith("| A3 ")).count("| [x] |") == 1
    status = CliRunner().invoke(main, ["status", "DEMO-001", "--json", "--root", str(b)])
    assert status.exit_code == 0
    # The merged ledger keeps counting: the next attempt is #6.
    assert "attempt #6" in ledger(b, "attempt", "add", "DEMO-001", "--summary", "after merge")
    git_env(b, "commit", "-qam", "after merge")
    git_env(b, "push", "-q", "origin", "main")
    git_env(a, "pull", "-q", "--no-rebase", "origin", "main")
    assert (a / "docs/fix_plan.md").read_text() == (b / "docs/fix_plan.md").read_text()


def test_without_the_driver_git_conflicts(clones, tmp_path):
    a, b = clones
    git(b, "config", "--remove-section", "merge.ledger")
    loop_step(a, "machine-a", "A1", "done")
    git_env(a, "push", "-q", "origin", "main")
    loop_step(b, "machine-b", "A1", "partial")
    git_env(b, "fetch", "-q", "origin")
    merged = git_env(b, "merge", "--no-edit", "origin/main", check=False)
    assert merged.returncode != 0 and "CONFLICT" in merged.stdout


def test_real_conflict_is_reported_to_git(clones):
    a, b = clones
    for ws, text in ((a, "Rewritten by a"), (b, "Rewritten by b")):
        plan = ws / "plans/active/DEMO-001/implementation.md"
        plan.write_text(plan.read_text().replace("| A1 | Passing selector |", f"| A1 | {text} |"))
        git(ws, "commit", "-qam", text)
    git_env(a, "push", "-q", "origin", "main")
    git_env(b, "fetch", "-q", "origin")
    merged = git_env(b, "merge", "--no-edit", "origin/main", check=False)
    assert merged.returncode != 0
    text = (b / "plans/active/DEMO-001/implementation.md").read_text()
    assert "<<<<<<< ours\n| A1 | Rewritten by b |" in text and "=======\n| A1 | Rewritten by a |" in text
    assert "\n>>>>>>> theirs\n" in text
    assert "1 conflict(s) left with markers" in merged.stderr


def run_row(ws: Path, *args: str) -> None:
    result = CliRunner().invoke(main, ["do", "DEMO-001", "A1", "--commit", *args, "--root", str(ws)])
    assert result.exit_code in (0, 1), result.output


def test_both_sides_running_a_row_keep_both_new_run_notes(clones):
    a, b = clones
    run_row(a)
    git_env(a, "push", "-q", "origin", "main")
    git_env(b, "pull", "-q", "--no-rebase", "origin", "main")
    # Each side's next run replaces the shared note with its own.
    run_row(a)
    git_env(a, "push", "-q", "origin", "main")
    # Its own slug: two machines running one row in the same second would otherwise both
    # add reports/<TS>/phase_a_assessment/ (an add/add conflict no merge driver can settle).
    run_row(b, "--selector", "pytest tests/test_demo.py::test_bad -q", "--slug", "phase_a_machine_b")
    git_env(b, "fetch", "-q", "origin")
    merged = git_env(b, "merge", "--no-edit", "origin/main", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    row = next(line for line in (b / "plans/active/DEMO-001/implementation.md").read_text().splitlines() if line.startswith("| A1 "))
    assert "| [P] |" in row and "<<<" not in row
    assert row.count("✅") == 1 and row.count("⚠️") == 1  # a's second run and b's run; a's first note is gone
    attempts = [line for line in (b / "docs/fix_plan.md").read_text().splitlines() if "Attempt #" in line]
    assert [line.split("Attempt #")[1].split(" ")[0] for line in attempts] == ["0", "1", "2", "3", "4"]
