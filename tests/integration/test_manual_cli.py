"""`status`, `show`, `mark`, `attempt add` through the real CLI on a temp git workspace."""

import json

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import git
from tests.integration.workspace_factory import make_workspace


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def run(ws, *args):
    return CliRunner().invoke(main, [*args, "--root", str(ws)], catch_exceptions=False)


def test_status_json_counts(ws):
    result = run(ws, "status", "--json")
    assert result.exit_code == 0
    (item,) = json.loads(result.output)["initiatives"]
    assert item["initiative"] == "DEMO-001"
    assert item["counts"] == {"rows": 7, "done": 1, "partial": 0, "open": 6, "unknown": 0}
    assert [p["key"] for p in item["phases"]] == ["A", "C"]


def test_status_text_lists_rows_of_one_initiative(ws):
    result = run(ws, "status", "DEMO-001")
    assert result.exit_code == 0
    assert "1/7 done" in result.output and "A1" in result.output and "C1" in result.output


def test_status_unknown_initiative_is_one_line_exit_2(ws):
    result = CliRunner().invoke(main, ["status", "NOPE-1", "--root", str(ws)])
    assert result.exit_code == 2
    assert "unknown initiative 'NOPE-1'" in result.output and "Traceback" not in result.output


def test_mark_changes_only_the_state_token_and_appends_note(ws):
    plan = ws / "plans/active/DEMO-001/implementation.md"
    before = plan.read_text()
    result = run(ws, "mark", "DEMO-001", "A2", "partial", "--note", "blocked | on `pipe")
    assert result.exit_code == 0, result.output
    after = plan.read_text()
    diff = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(diff) == 1 and len(before.splitlines()) == len(after.splitlines())
    old, new = diff[0]
    assert new.startswith("| A2 | Failing selector | [P] | Run `pytest tests/test_demo.py::test_bad -q`.")
    assert r"blocked \| on \`pipe |" in new
    assert git(ws, "status", "--porcelain").strip() == "M plans/active/DEMO-001/implementation.md"


def test_mark_checklist_row_json(ws):
    result = run(ws, "mark", "DEMO-001", "C1", "[x]", "--json")
    data = json.loads(result.output)
    assert (data["token_before"], data["token_after"]) == ("[ ]", "[x]")
    assert "- [x] C1: Env override" in (ws / "plans/active/DEMO-001/implementation.md").read_text()


def test_mark_rejects_unknown_state(ws):
    result = CliRunner().invoke(main, ["mark", "DEMO-001", "A1", "finished", "--root", str(ws)])
    assert result.exit_code == 2 and "unknown state" in result.output


def test_attempt_add_appends_next_number(ws):
    result = run(ws, "attempt", "add", "DEMO-001", "--summary", "Looked at A2 | tables", "--row", "A2", "--json")
    assert json.loads(result.output)["attempt"] == 2
    ledger = (ws / "docs/fix_plan.md").read_text()
    assert "  * [2026-11-02] Attempt #1 — Phase A.A4: prose.\n  * [" in ledger
    assert "Attempt #2 — Phase A.A2 Looked at A2 | tables\n- Exit Criteria:" in ledger
    result = run(ws, "attempt", "add", "DEMO-001", "--summary", "again")
    assert "attempt #3" in result.output


def test_show_row_with_attempts(ws):
    result = run(ws, "show", "DEMO-001", "A4", "--json")
    data = json.loads(result.output)
    assert data["row"]["id"] == "A4" and data["selectors"] == []
    assert [a["number"] for a in data["attempts"]] == [1]


def test_unknown_row_names_the_plan_file(ws):
    result = CliRunner().invoke(main, ["show", "DEMO-001", "Z9", "--root", str(ws)])
    assert result.exit_code == 2
    assert "plans/active/DEMO-001/implementation.md" in result.output and "unknown row 'Z9'" in result.output


D_TABLE_PLAN = """# DEMO-001 — A table that marks done rows `[D]` (the corpus registration checklist's convention)

### Phase 1 — Work
| ID  | Task Description | State | How/Why & API Guidance |
| :-- | :--------------- | :---- | :--------------------- |
| 1.A | First            | `[D]` | Done.
| 1.B | Second           | `[D]` | Done.
| 1.C | Third            | `[ ]` | Open.
"""


def test_mark_writes_the_token_the_file_already_uses_for_that_state(tmp_path):
    ws = make_workspace(tmp_path / "ws", plan=D_TABLE_PLAN)
    plan = ws / "plans/active/DEMO-001/implementation.md"
    assert run(ws, "mark", "DEMO-001", "1.C", "done").exit_code == 0
    assert "| 1.C | Third            | `[D]` | Open." in plan.read_text()
    # No row of the file is partial yet: the configured default, [P].
    assert run(ws, "mark", "DEMO-001", "1.A", "partial").exit_code == 0
    assert "| 1.A | First            | `[P]` | Done." in plan.read_text()
