"""A `do` killed at every step of recording its run (LEDGER_FAULT_AT, the core's test hook,
exits with os._exit there): `audit` reports the half-recorded run, and `ledger repair` — or
the next writing command — completes it, so row flipped <=> attempt recorded <=> manifest
complete (issue 11: 33 of 116 kill points left a flipped row with no attempt, or the reverse)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from ledger.editing.repair import FAULT_STEPS, journal_path
from tests.conftest import LEDGER_BIN
from tests.integration.workspace_factory import make_workspace
from tests.reliability.helpers import LEDGER_FILE, PLAN_FILE, cli

pytestmark = pytest.mark.slow


def do_killed_at(root, step: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LEDGER_BIN), "do", "DEMO-001", "A1", "--root", str(root)],
        capture_output=True, text=True, timeout=120, cwd=root, env={**os.environ, "LEDGER_FAULT_AT": step},
    )


def consistent(root) -> tuple[bool, int, bool]:
    """(row flipped, attempts citing the run, manifest complete) for the one run of A1."""
    (folder,) = [p for p in (root / "plans/active/DEMO-001/reports").glob("*/*") if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text())
    (row,) = [r for r in parse_plan(SourceText.read(root / PLAN_FILE)).rows if r.id == "A1"]
    attempts = [a for a in parse_ledger(SourceText.read(root / LEDGER_FILE)).attempts_for("DEMO-001") if folder.name in a.text]
    return row.state_token == "[x]", len(attempts), manifest["complete"] is True and manifest["outcome"] == "passed"


@pytest.mark.parametrize("step", FAULT_STEPS)
@pytest.mark.parametrize("how", ["repair", "next-write"])
def test_a_do_killed_at_each_record_step_is_completed(tmp_path, step, how):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    killed = do_killed_at(root, step)
    assert killed.returncode == 137, (killed.stdout, killed.stderr)
    assert journal_path(root).exists()
    audit = cli(root, "audit", "--json")
    kinds = {issue["kind"] for issue in json.loads(audit.stdout)["issues"]}
    assert "half_recorded_run" in kinds
    if how == "repair":
        result = cli(root, "repair")
        assert result.returncode == 0, result.stderr
        assert "completed the half-recorded run" in result.stdout
    else:
        result = cli(root, "mark", "DEMO-001", "A3", "partial")
        assert result.returncode == 0, result.stderr
    assert not journal_path(root).exists()
    assert consistent(root) == (True, 1, True)
    # Nothing is written twice, and nothing is left to repair.
    assert cli(root, "repair").stdout.strip() == "nothing to repair: no half-recorded run"
    assert consistent(root) == (True, 1, True)
    audit = cli(root, "audit", "--json")
    assert "half_recorded_run" not in {issue["kind"] for issue in json.loads(audit.stdout)["issues"]}


def test_an_unkilled_do_leaves_no_journal(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    assert cli(root, "repair").stdout.strip() == "nothing to repair: no half-recorded run"
    result = subprocess.run([str(LEDGER_BIN), "do", "DEMO-001", "A1", "--root", str(root)], capture_output=True, text=True, timeout=120, cwd=root)
    assert result.returncode == 0, result.stderr
    assert not journal_path(root).exists()
    assert consistent(root) == (True, 1, True)
