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
    # a's attempts are already pushed (others may cite them): they keep #2 and #3 and come
    # first; b's local ones follow as #4 and #5, each saying what it was.
    assert [a.split(" — ")[1] for a in attempts[2:]] == [
        "Phase A.A1 machine-a ran A1", "Phase A.A2 machine-a ran A2",
        "Phase A.A1 machine-b ran A1", "Phase A.A3 machine-b ran A3",
    ]
    assert [a.split("Attempt #")[1].split(" ")[0] for a in attempts] == ["0", "1", "2", "3", "4", "5"]
    assert "Attempt #4 (renumbered from #2 at merge)" in attempts[4]
    assert "attempt #2 renumbered #4" in merged.stderr
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


# ------------------------------------------------------------------ rebase: git swaps the sides


def _attempt_lines(ws: Path) -> list[str]:
    return [line.strip() for line in (ws / "docs/fix_plan.md").read_text().splitlines() if "Attempt #" in line]


def test_rebase_keeps_the_published_numbers_and_renumbers_the_replayed_local_ones(clones):
    """Under `git rebase` %A is the upstream and %B the local commit: the pushed attempts
    keep their numbers (as under `git merge`), the local ones follow and say so."""
    a, b = clones
    loop_step(a, "machine-a", "A1", "done")
    git_env(a, "push", "-q", "origin", "main")
    loop_step(b, "machine-b", "A2", "partial")
    git_env(b, "fetch", "-q", "origin")
    rebased = git_env(b, "rebase", "origin/main", check=False)
    assert rebased.returncode == 0, rebased.stdout + rebased.stderr
    attempts = _attempt_lines(b)
    assert [line.split(" — ", 1)[1] for line in attempts[2:]] == ["Phase A.A1 machine-a ran A1", "Phase A.A2 machine-b ran A2"]
    assert attempts[2].startswith("* [") and "Attempt #2 —" in attempts[2]  # a's, unchanged
    assert "Attempt #3 (renumbered from #2 at merge) —" in attempts[3]
    assert "attempt #2 renumbered #3" in rebased.stderr
    plan = (b / "plans/active/DEMO-001/implementation.md").read_text()
    assert "<<<<<<<" not in plan and "| [x] |" in next(l for l in plan.splitlines() if l.startswith("| A1 "))
    assert git(b, "status", "--porcelain") == ""


def test_pull_rebase_autostash_merges_committed_and_uncommitted_local_attempts(clones):
    a, b = clones
    loop_step(a, "machine-a", "A1", "done")
    git_env(a, "push", "-q", "origin", "main")
    loop_step(b, "machine-b", "A2", "partial")
    # Not committed yet: the rebase stashes it and applies it afterwards (a merge too).
    ledger(b, "attempt", "add", "DEMO-001", "--row", "A3", "--summary", "machine-b wip")
    pulled = git_env(b, "pull", "--rebase", "--autostash", "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    attempts = _attempt_lines(b)
    assert [line.split(" — ", 1)[1] for line in attempts[2:]] == [
        "Phase A.A1 machine-a ran A1", "Phase A.A2 machine-b ran A2", "Phase A.A3 machine-b wip",
    ]
    assert [line.split("Attempt #")[1].split(" ")[0] for line in attempts] == ["0", "1", "2", "3", "4"]
    assert git(b, "status", "--porcelain").strip() == "M docs/fix_plan.md"  # the wip is back, uncommitted
    assert "<<<<<<<" not in (b / "docs/fix_plan.md").read_text()


GLOBAL_LEDGER = """# Fix Plan

## Attempts History

### 2026-11-01T00:00:00Z — DEMO-001 A4 (attempt #1)
Prose.
"""


def test_same_second_identical_adds_on_one_row_never_fuse(tmp_path):
    """Two machines add the same attempt to the same row at the same moment: the headings
    differ by their random id, so both entries survive a rebase whole."""
    seed = make_workspace(tmp_path / "seed", ledger=GLOBAL_LEDGER)
    ledger(seed, "init", "--git")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "init")
    git(tmp_path, "clone", "-q", "--bare", str(seed), "origin.git")
    a, b = tmp_path / "a", tmp_path / "b"
    for ws in (a, b):
        git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), ws.name)
        ledger(ws, "init", "--git")
        ledger(ws, "attempt", "add", "DEMO-001", "--row", "A1", "--summary", "same words")
        git(ws, "commit", "-qam", "attempt")
    git_env(a, "push", "-q", "origin", "main")
    git_env(b, "fetch", "-q", "origin")
    rebased = git_env(b, "rebase", "origin/main", check=False)
    assert rebased.returncode == 0, rebased.stdout + rebased.stderr
    text = (b / "docs/fix_plan.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("### ") and "A1" in line]
    assert len(headings) == 2 and text.count("same words") == 2
    assert "attempt #2, id " in headings[0] and "attempt #3, id " in headings[1] and "renumbered from #2" in headings[1]


def test_attempt_add_number_uses_and_checks_a_pre_assigned_number(clones):
    a, _ = clones
    result = CliRunner().invoke(main, ["attempt", "add", "DEMO-001", "--number", "82", "--summary", "as input.md said", "--root", str(a), "--json"])
    assert result.exit_code == 0, result.output
    assert '"attempt": 82' in result.output and "Attempt #82 — as input.md said" in (a / "docs/fix_plan.md").read_text()
    again = CliRunner().invoke(main, ["attempt", "add", "DEMO-001", "--number", "82", "--summary", "again", "--root", str(a)])
    assert again.exit_code == 2
    assert "attempt #82 of DEMO-001 already exists at line" in again.output and "next free number is #83" in again.output
    # The next unassigned attempt follows the highest number.
    assert "attempt #83" in ledger(a, "attempt", "add", "DEMO-001", "--summary", "next")


def test_do_attempt_refuses_a_taken_number_before_running(clones):
    a, _ = clones
    result = CliRunner().invoke(main, ["do", "DEMO-001", "A1", "--attempt", "1", "--root", str(a)])
    assert result.exit_code == 2 and "attempt #1 of DEMO-001 already exists" in result.output
    assert not (a / "plans/active/DEMO-001/reports").exists()
    done = CliRunner().invoke(main, ["do", "DEMO-001", "A1", "--attempt", "7", "--root", str(a)])
    assert done.exit_code == 0, done.output
    assert "attempt #7 appended" in done.output and "Attempt #7 — Phase A.A1 `ledger do`" in (a / "docs/fix_plan.md").read_text()
