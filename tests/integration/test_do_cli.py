"""`ledger do` end to end: the real CLI, a real pytest run, a temp git workspace."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from tests.conftest import LEDGER_BIN, snapshot
from tests.integration.workspace_factory import make_workspace

PLAN_FILE = "plans/active/DEMO-001/implementation.md"
LEDGER_FILE = "docs/fix_plan.md"


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def ledger(ws: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LEDGER_BIN), *args, "--root", str(ws)], capture_output=True, text=True, timeout=timeout
    )


def files(ws: Path) -> dict[str, bytes]:
    """The workspace's files, less the lock file every locked command leaves behind (gitignored)."""
    return {k: v for k, v in snapshot(ws).items() if k != ".ledger.lock"}


def row_line(ws: Path, row: str) -> str:
    return next(line for line in (ws / PLAN_FILE).read_text().splitlines() if line.startswith(f"| {row} "))


def report_dirs(ws: Path) -> list[Path]:
    return sorted((ws / "plans/active/DEMO-001/reports").glob("*/*"))


def test_passing_row_flips_writes_evidence_and_appends_attempt(ws):
    plan_before = (ws / PLAN_FILE).read_bytes()
    result = ledger(ws, "do", "DEMO-001", "A1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "passed" and data["state_before"] == "open" and data["state_after"] == "done"
    assert data["counts"] == {"tests": 1, "passed": 1, "failed": 0, "errors": 0, "skipped": 0}
    assert data["attempt"] == 2
    assert set(data) >= {"initiative", "row", "selector", "outcome", "counts", "duration_s", "report_dir", "state_before", "state_after", "attempt"}
    # Live output went to stderr in --json mode; stdout is one JSON object.
    assert "test_ok" in result.stderr and "elapsed" in result.stderr

    (folder,) = report_dirs(ws)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{6}Z", folder.parent.name) and folder.name == "phase_a_assessment"
    assert data["report_dir"] == f"plans/active/DEMO-001/reports/{folder.parent.name}/{folder.name}/"
    names = {p.name for p in folder.iterdir()}
    assert names == {"pytest.log", "junit.xml", "env_snapshot.txt", "env.json", "summary.md", "manifest.json"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["outcome"] == "passed" and manifest["exit_code"] == 0
    assert manifest["argv"][1:3] == ["-m", "pytest"] and "python" in Path(manifest["argv"][0]).name and manifest["env_overrides"] == {"CUDA_VISIBLE_DEVICES": ""}
    # summary.md is the agents' to add to: only ledger's record inside it is hashed.
    assert set(manifest["files"]) == names - {"manifest.json", "summary.md"} and set(manifest["regions"]) == {"summary.md"}
    assert manifest["peak_rss_bytes"] and manifest["git_commit"]
    env = json.loads((folder / "env.json").read_text())
    assert env["cuda_visible_devices"] == "" and env["python"]["version"]
    # The workspace declares no dependencies and its tests import only the standard library
    # and pytest: the snapshot lists pytest, not ledger's own (torch, lightning) defaults.
    assert list(env["packages"]) == ["pytest"]
    assert "torch" not in (folder / "env_snapshot.txt").read_text()
    assert "1 passed" in (folder / "pytest.log").read_text()
    listed = re.findall(r"^- `([^`]+)`$", (folder / "summary.md").read_text(), flags=re.M)
    assert sorted(listed) == sorted(names) and listed[-1] == "manifest.json"

    # Only the state cell and the guidance note changed in the plan.
    plan_after = (ws / PLAN_FILE).read_bytes()
    before_lines, after_lines = plan_before.splitlines(), plan_after.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before_lines, after_lines)) if a != b]
    assert len(before_lines) == len(after_lines) and len(changed) == 1
    line = row_line(ws, "A1")
    assert line.startswith("| A1 | Passing selector | [x] | Run `pytest tests/test_demo.py::test_ok -q`. ✅ ")
    assert f"Artifacts: reports/{folder.parent.name}/{folder.name}/ |" in line

    doc = parse_ledger(SourceText.read(ws / LEDGER_FILE))
    attempts = doc.attempts_for("DEMO-001")
    assert [a.number for a in attempts] == [0, 1, 2]
    assert "`ledger do`: PASSED (1 passed)" in attempts[-1].text and data["report_dir"] in attempts[-1].text


def test_failing_row_goes_partial_exit_1(ws):
    result = ledger(ws, "do", "DEMO-001", "A2")
    assert result.returncode == 1
    assert "outcome: failed (1 failed, 0 errors of 1 tests)" in result.stdout
    assert "| A2 | Failing selector | [P] |" in row_line(ws, "A2") and "⚠️" in row_line(ws, "A2")
    manifest = json.loads((report_dirs(ws)[0] / "manifest.json").read_text())
    assert manifest["outcome"] == "failed" and manifest["counts"]["failed"] == 1


def test_unknown_node_id_is_a_usage_error_that_leaves_the_row(ws):
    result = ledger(ws, "do", "DEMO-001", "A3", "--json")
    assert result.returncode == 6
    data = json.loads(result.stdout)
    assert data["outcome"] == "usage_error"
    # The reason is pytest's own line, with the workspace path made relative.
    assert data["reason"] == "not found: tests/test_demo.py::test_missing", data["reason"]
    assert "| A3 | Collects nothing | [ ] |" in row_line(ws, "A3") and "Artifacts" not in row_line(ws, "A3")


@pytest.mark.parametrize(
    ("row", "message"),
    [("A4", "has no pytest selector"), ("A5", "never runs a shell"), ("Z9", "unknown row 'Z9'")],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(ws, row, message):
    before = files(ws)
    result = ledger(ws, "do", "DEMO-001", row)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert files(ws) == before


def test_selector_override_and_unsafe_override(ws):
    assert ledger(ws, "do", "DEMO-001", "A4", "--selector", "pytest tests/test_demo.py::test_ok", "--no-flip").returncode == 0
    assert "[x]" in row_line(ws, "A4")  # untouched
    bad = ledger(ws, "do", "DEMO-001", "A4", "--selector", "bash -c 'touch pwned'")
    assert bad.returncode == 2 and not (ws / "pwned").exists()


def test_env_overrides_from_selector_and_config(ws):
    result = ledger(ws, "do", "DEMO-001", "C1", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["env_overrides"] == {"CUDA_VISIBLE_DEVICES": "", "DEMO_FLAG": "on"}
    assert "- [x] C1:" in (ws / PLAN_FILE).read_text()


def test_dry_run_writes_nothing(ws):
    before = files(ws)
    result = ledger(ws, "do", "DEMO-001", "A1", "--dry-run")
    assert result.returncode == 0
    assert "dry run, nothing written" in result.stdout and "reports/" in result.stdout
    assert files(ws) == before


def test_no_flip_keeps_the_plan_but_records_the_attempt(ws):
    plan = (ws / PLAN_FILE).read_bytes()
    assert ledger(ws, "do", "DEMO-001", "A1", "--no-flip").returncode == 0
    assert (ws / PLAN_FILE).read_bytes() == plan
    assert "Attempt #2" in (ws / LEDGER_FILE).read_text()


def test_timeout_kills_and_exits_124(ws):
    result = ledger(ws, "do", "DEMO-001", "A6", "--timeout", "2", "--json")
    assert result.returncode == 124
    data = json.loads(result.stdout)
    assert data["outcome"] == "timeout" and data["duration_s"] < 20
    assert "[P]" in row_line(ws, "A6")


def test_slug_override_and_second_run_never_reuses_a_folder(ws):
    assert ledger(ws, "do", "DEMO-001", "A1", "--slug", "custom_slug").returncode == 0
    assert ledger(ws, "do", "DEMO-001", "A1", "--slug", "custom_slug").returncode == 0
    folders = report_dirs(ws)
    assert len(folders) == 2 and {f.name for f in folders} == {"custom_slug"}
    assert ledger(ws, "do", "DEMO-001", "A1", "--slug", "../escape").returncode == 2


def test_second_run_shows_elapsed_against_previous(ws):
    assert ledger(ws, "do", "DEMO-001", "A1").returncode == 0
    second = ledger(ws, "do", "DEMO-001", "A1")
    assert second.returncode == 0
    assert re.search(r"elapsed \d+\.\ds \(previous passing run \d+\.\ds, \d+\.\d\dx\)", second.stdout)
    # The row shows the newest run: the second note took the first one's place.
    first, newest = report_dirs(ws)
    line = row_line(ws, "A1")
    assert line.count("✅") == 1 and f"reports/{newest.parent.name}/{newest.name}/" in line
    assert f"reports/{first.parent.name}/" not in line
    assert json.loads((newest / "manifest.json").read_text())["row_note"] in line


def test_a_note_edited_after_the_run_is_kept_and_the_next_note_appended(ws):
    assert ledger(ws, "do", "DEMO-001", "A1").returncode == 0
    plan = ws / PLAN_FILE
    plan.write_text(plan.read_text().replace("phase_a_assessment/ |", "phase_a_assessment/ (reviewed by Ana) |"))
    assert ledger(ws, "do", "DEMO-001", "A1").returncode == 0
    line = row_line(ws, "A1")
    assert line.count("✅") == 2 and "(reviewed by Ana) ✅" in line
