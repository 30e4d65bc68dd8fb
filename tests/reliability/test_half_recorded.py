"""A `do` killed at every step of recording its run (LEDGER_FAULT_AT, the core's test hook,
exits with os._exit there): `audit` reports the half-recorded run, and `ledger repair` — or
the next writing command — completes it, so row flipped <=> attempt recorded <=> manifest
complete (issue 11: 33 of 116 kill points left a flipped row with no attempt, or the reverse).
Killed before that journal exists (EARLY_FAULT_STEPS: registered, folder claimed, folder made,
tests run), the plan and the ledger are untouched and the report folder is marked abandoned."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from ledger.editing.repair import EARLY_FAULT_STEPS, FAULT_STEPS, journal_path, runs_folder
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
    # The text report shows it too, with its fix: before, it only said "verdict: FAIL (half_recorded_run)".
    text = cli(root, "audit").stdout
    assert "runs a killed ledger left half-recorded (1)" in text and "ledger repair" in text
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


@pytest.mark.parametrize(
    "journal, why",
    [
        ({"folder": "plans/active/DEMO-001/reports/x/y"}, "names no initiative"),
        ({"initiative": "DEMO-001", "context": {}}, "names no folder"),
        ({"folder": "r", "initiative": "DEMO-001", "context": {}, "new_state": "done"}, "flips a row but names no plan"),
        (
            {"folder": "r", "initiative": "DEMO-001", "context": {}, "new_state": "gone", "plan": PLAN_FILE, "row": "A1", "note": ""},
            "unknown row state 'gone'",
        ),
        ({"folder": "../../outside", "initiative": "DEMO-001", "context": {}}, "outside the workspace"),
        (
            {"folder": "r", "initiative": "DEMO-001", "context": {}, "new_state": "done", "plan": PLAN_FILE, "row": "Z9", "note": ""},
            "names row Z9",
        ),
    ],
)
def test_a_hand_made_journal_is_refused_in_one_line_and_kept(tmp_path, journal, why):
    """A journal ledger did not write (it writes one whole, atomically) cannot say what to
    complete: `repair` says why in one line, exit 2, touches nothing and keeps the journal for
    whoever checks by hand; other writing commands still work, and audit keeps reporting it.
    Before, repair ended in a KeyError traceback."""
    root = make_workspace(tmp_path / "ws", git_repo=False)
    journal_path(root).write_text(json.dumps(journal))
    plan_before, ledger_before = (root / PLAN_FILE).read_bytes(), (root / LEDGER_FILE).read_bytes()
    result = cli(root, "repair")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and why in result.stderr
    assert result.stderr.count("\n") == 1 and str(journal_path(root).name) in result.stderr
    assert ((root / PLAN_FILE).read_bytes(), (root / LEDGER_FILE).read_bytes()) == (plan_before, ledger_before)
    assert journal_path(root).exists()
    marked = cli(root, "mark", "DEMO-001", "A3", "partial")
    assert marked.returncode == 0 and "could not be completed" in marked.stderr, marked.stderr
    audit = json.loads(cli(root, "audit", "--json").stdout)
    (issue,) = [issue for issue in audit["issues"] if issue["kind"] == "half_recorded_run"]
    if "row" not in why:  # audit checks the journal itself; only repair looks the row up
        assert issue["file"] == journal_path(root).name and why in issue["message"]
        assert "cannot complete it" in issue["message"] and "delete the journal" in issue["message"]


def report_folders(root) -> tuple[list, list]:
    """(report folders, staging folders) under DEMO-001's reports."""
    found = [p for p in (root / "plans/active/DEMO-001/reports").glob("*/*") if p.is_dir()]
    return [p for p in found if not p.name.startswith(".")], [p for p in found if p.name.startswith(".")]


def incomplete_messages(root) -> list[str]:
    issues = json.loads(cli(root, "audit", "--json").stdout)["issues"]
    assert "half_recorded_run" not in {issue["kind"] for issue in issues}
    return [issue["message"] for issue in issues if issue["kind"] == "incomplete_report"]


@pytest.mark.parametrize("step", EARLY_FAULT_STEPS)
@pytest.mark.parametrize("how", ["repair", "next-write"])
def test_a_do_killed_before_its_journal_leaves_an_abandoned_folder(tmp_path, step, how):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    plan_before, ledger_before = (root / PLAN_FILE).read_bytes(), (root / LEDGER_FILE).read_bytes()
    killed = do_killed_at(root, step)
    assert killed.returncode == 137, (killed.stdout, killed.stderr)
    assert not journal_path(root).exists()
    assert [p.name for p in runs_folder(root).iterdir()] != []  # the dead run's registration
    folders, staging = report_folders(root)
    if step in ("run-registered", "report-claimed"):
        assert folders == [] and len(staging) == (step == "report-claimed")
    else:
        (folder,) = folders
        assert json.loads((folder / "manifest.json").read_text())["complete"] is False
        (message,) = incomplete_messages(root)
        assert "no running ledger do owns" in message and "ledger repair marks it abandoned" in message

    if how == "repair":
        result = cli(root, "repair")
        assert result.returncode == 0, result.stderr
        # The plan and the ledger were never touched: nothing is written to them now either.
        assert ((root / PLAN_FILE).read_bytes(), (root / LEDGER_FILE).read_bytes()) == (plan_before, ledger_before)
    else:
        result = cli(root, "mark", "DEMO-001", "A3", "partial")
        assert result.returncode == 0, result.stderr
        assert (root / LEDGER_FILE).read_bytes() == ledger_before
    assert list(runs_folder(root).iterdir()) == []
    assert report_folders(root)[1] == []  # the staging folder went with its run
    (row,) = [r for r in parse_plan(SourceText.read(root / PLAN_FILE)).rows if r.id == "A1"]
    assert row.state_token == "[ ]"
    if folders:
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["complete"] is False and "killed" in manifest["abandoned"]["why"]
        assert "marked abandoned the run" in (result.stdout + result.stderr)
        assert not (folder / "basetemp").exists()
        (message,) = incomplete_messages(root)
        assert "is an abandoned run" in message and "never counted as evidence" in message
    else:
        assert incomplete_messages(root) == []
    assert cli(root, "repair").stdout.strip() == "nothing to repair: no half-recorded run"


HOLD_A_RUN = """
import sys
from pathlib import Path
from ledger.editing.repair import RunClaim
from ledger.running.evidence import create_report_dir, utc_now
root = Path(sys.argv[1])
run = RunClaim.start(root)
report = create_report_dir(root, root / "plans/active/DEMO-001/reports", "live", utc_now(), run_id=run.token, claim=run.claim)
print(report.path, flush=True)
sys.stdin.read()
"""


def test_a_run_still_in_flight_is_never_marked_abandoned(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_A_RUN, str(root)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        folder = type(root)(holder.stdout.readline().strip())  # registered and created
        assert cli(root, "repair").stdout.strip() == "nothing to repair: no half-recorded run"
        assert "abandoned" not in json.loads((folder / "manifest.json").read_text())
        (message,) = incomplete_messages(root)
        assert "being written by a running ledger do" in message
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    # Its process is gone: now it is a dead run.
    assert "marked abandoned the run" in cli(root, "repair").stdout
    assert json.loads((folder / "manifest.json").read_text())["abandoned"]


def test_repair_marks_an_unregistered_incomplete_folder_abandoned(tmp_path):
    """A folder an older ledger left (no run_id, no registration): the automatic repair of a
    write leaves it alone (it cannot be found without a scan), `ledger repair` marks it."""
    from ledger.running.evidence import create_report_dir, utc_now

    root = make_workspace(tmp_path / "ws", git_repo=False)
    folder = create_report_dir(root, root / "plans/active/DEMO-001/reports", "old", utc_now()).path
    assert cli(root, "mark", "DEMO-001", "A3", "partial").returncode == 0
    assert "abandoned" not in json.loads((folder / "manifest.json").read_text())
    result = cli(root, "repair")
    assert "marked abandoned the run" in result.stdout and "no running ledger do owns it" in result.stdout
    assert json.loads((folder / "manifest.json").read_text())["abandoned"]
