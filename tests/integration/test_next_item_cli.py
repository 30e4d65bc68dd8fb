"""`ledger next` (the row a loop works on now) and `ledger item --status`."""

from __future__ import annotations

import json
import textwrap

from click.testing import CliRunner

from ledger.cli import main
from tests.integration.workspace_factory import LEDGER, make_workspace

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Demo initiative

    ### Phase A — Baseline
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | A1 | Done already | [x] | Run `pytest tests/test_demo.py::test_ok -q`. |
    | A2 | Waits for A3 | [ ] | Depends on: A3. Run `pytest tests/test_demo.py::test_ok -q`. |
    | A3 | Free | [P] | Run `pytest tests/test_demo.py::test_env -q`. |
    """
)


def run(ws, *args):
    return CliRunner().invoke(main, [*args, "--root", str(ws)])


def test_next_is_the_first_open_row_whose_dependencies_are_done(tmp_path):
    ws = make_workspace(tmp_path / "ws", plan=PLAN, git_repo=False)
    result = run(ws, "next", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["next"]["row"] == "A3" and data["row"] == "A3" and data["state"] == "partial"
    assert data["selector"] == "pytest tests/test_demo.py::test_env -q"
    assert data["waiting"] == [{"initiative": "DEMO-001", "row": "A2", "waiting_for": ["A3"]}]
    assert run(ws, "mark", "DEMO-001", "A3", "done").exit_code == 0
    assert json.loads(run(ws, "next", "DEMO-001", "--json").stdout)["row"] == "A2"  # A3 done: A2 is free
    assert run(ws, "mark", "DEMO-001", "A2", "done").exit_code == 0
    done = run(ws, "next", "--json")
    assert done.exit_code == 1 and json.loads(done.stdout)["next"] is None
    assert "nothing left to work" in run(ws, "next").output


def test_next_skips_blocked_items_and_honours_item_dependencies(tmp_path):
    ledger = LEDGER + "\n## [OTHER-002] Other\n- Status: in_progress\n- Depends on: DEMO-001\n- Attempts History:\n"
    ws = make_workspace(tmp_path / "ws", plan=PLAN, ledger=ledger, git_repo=False)
    other = ws / "plans/active/OTHER-002"
    other.mkdir(parents=True)
    (other / "implementation.md").write_text("# OTHER-002\n\n- [ ] O1: open item\n")
    assert run(ws, "item", "DEMO-001", "--status", "blocked").exit_code == 0
    result = run(ws, "next", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1  # DEMO-001 blocked; OTHER-002 waits for all of DEMO-001
    assert {"initiative": "OTHER-002", "row": "*", "waiting_for": ["DEMO-001"]} in data["waiting"]
    assert data["skipped_items"] == [{"initiative": "DEMO-001", "status": "blocked"}]
    # Named explicitly, a blocked item's rows are still listed.
    assert json.loads(run(ws, "next", "DEMO-001", "--json").stdout)["row"] == "A3"


def test_item_status_changes_only_the_value(tmp_path):
    ws = make_workspace(tmp_path / "ws", git_repo=False)
    path = ws / "docs/fix_plan.md"
    before = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(before)
    result = run(ws, "item", "DEMO-001", "--status", "done", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"initiative": "DEMO-001", "file": "docs/fix_plan.md", "line": 4,
                                         "status_before": "in_progress", "status_after": "done"}
    assert path.read_bytes() == before.replace(b"- Status: in_progress\r\n", b"- Status: done\r\n")
    assert run(ws, "item", "DEMO-001", "--status", "done").exit_code == 0
    assert path.read_bytes() == before.replace(b"- Status: in_progress\r\n", b"- Status: done\r\n")


def test_item_status_is_added_under_the_heading_when_missing(tmp_path):
    ws = make_workspace(tmp_path / "ws", ledger=LEDGER.replace("- Status: in_progress\n", ""), git_repo=False)
    assert run(ws, "item", "DEMO-001", "--status", "in_progress").exit_code == 0
    assert "## [DEMO-001] Demo initiative\n- Status: in_progress\n- Attempts History:" in (ws / "docs/fix_plan.md").read_text()


def test_item_status_refuses_unknown_items_and_values(tmp_path):
    ws = make_workspace(tmp_path / "ws", git_repo=False)
    missing = run(ws, "item", "NOPE-009", "--status", "done")
    assert missing.exit_code == 2 and "no [NOPE-009] item" in missing.output
    assert run(ws, "item", "DEMO-001", "--status", "finished").exit_code == 2
