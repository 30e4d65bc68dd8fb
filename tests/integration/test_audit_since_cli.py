"""`audit --since REV` (the gate after an agent's turn) and stale verified rows."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import git
from tests.integration.workspace_factory import make_workspace


ONE_ROW = """# DEMO-001 — Demo

### Phase A — Baseline
| ID | Task Description | State | How/Why & Guidance |
| --- | --- | --- | --- |
| A1 | Passing selector | [ ] | Run `pytest tests/test_demo.py::test_ok -q`. |
"""


def run(ws, *args):
    return CliRunner().invoke(main, [*args, "--root", str(ws)])


def rows(result) -> dict:
    return {r["row"]: r for i in json.loads(result.stdout)["initiatives"] for r in i["rows"]}


def test_since_keeps_only_rows_and_attempts_changed_since_the_commit(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    assert run(ws, "do", "DEMO-001", "A1", "--commit").exit_code == 0
    turn_start = git(ws, "rev-parse", "HEAD").strip()
    # The agent's turn: marks C1 and adds an attempt naming A2, nothing else.
    assert run(ws, "mark", "DEMO-001", "C1", "partial").exit_code == 0
    assert run(ws, "attempt", "add", "DEMO-001", "--row", "A2", "--summary", "looked at A2").exit_code == 0
    result = run(ws, "audit", "--since", turn_start, "--json")
    assert json.loads(result.stdout)["since"] == turn_start
    assert set(rows(result)) == {"C1", "A2"}
    everything = run(ws, "audit", "--json")
    assert {"A1", "A4", "C1", "A2"} <= set(rows(everything))
    # A run recorded in the turn brings its row in.
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    assert "A1" in rows(run(ws, "audit", "--since", turn_start, "--json"))
    bad = run(ws, "audit", "--since", "no-such-rev")
    assert bad.exit_code == 2 and "not a commit" in bad.output


def test_a_verified_row_whose_tests_changed_after_its_run_is_stale(tmp_path):
    ws = make_workspace(tmp_path / "ws", plan=ONE_ROW)
    assert run(ws, "do", "DEMO-001", "A1", "--commit").exit_code == 0
    first = run(ws, "audit", "--strict", "--json")
    fresh = rows(first)["A1"]
    assert fresh["audit"] == "verified" and fresh["stale"] is None and first.exit_code == 0
    test_file = ws / "tests/test_demo.py"
    test_file.write_text(test_file.read_text() + "\n\ndef test_more():\n    assert True\n")
    git(ws, "commit", "-qam", "more tests")
    result = run(ws, "audit", "--json")
    row = rows(result)["A1"]
    assert row["audit"] == "verified" and row["label"].startswith("verified, stale")
    assert row["stale"]["files"] == ["tests/test_demo.py"] and row["stale"]["commits"][0].endswith(" more tests")
    assert result.exit_code == 0  # info by default
    strict = run(ws, "audit", "--strict", "--json")
    assert strict.exit_code == 1 and rows(strict)["A1"]["stale"]
    assert "stale: changed since the run's commit" in run(ws, "audit", "--all").output


def test_a_change_to_plans_or_docs_does_not_make_a_row_stale(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    assert run(ws, "do", "DEMO-001", "A1", "--commit").exit_code == 0
    (ws / "docs/notes.md").write_text("notes\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "docs")
    assert rows(run(ws, "audit", "--json"))["A1"]["stale"] is None


TWINS = """# DEMO-001 — Demo

### Phase A — First pass
| ID | Task Description | State | How/Why & Guidance |
| --- | --- | --- | --- |
| C1 | First C1 | [ ] | Later. |

### Phase B — Second pass
| ID | Task Description | State | How/Why & Guidance |
| --- | --- | --- | --- |
| C1 | Second C1 | [ ] | Later. |
"""


def test_since_tells_a_repeated_id_from_its_twin(tmp_path):
    """An attempt naming B.C1 brings in B.C1 and not A.C1 (a bare C1 names both)."""
    ws = make_workspace(tmp_path / "ws", plan=TWINS)
    turn_start = git(ws, "rev-parse", "HEAD").strip()
    assert run(ws, "attempt", "add", "DEMO-001", "--summary", "looked at Phase B.C1 again").exit_code == 0
    kept = [(r["row"], r["qualified_id"]) for i in json.loads(run(ws, "audit", "--since", turn_start, "--json").stdout)["initiatives"] for r in i["rows"]]
    assert kept == [("C1", "B.C1")]
    assert run(ws, "attempt", "add", "DEMO-001", "--summary", "C1 in both phases").exit_code == 0
    kept = [r["qualified_id"] for i in json.loads(run(ws, "audit", "--since", turn_start, "--json").stdout)["initiatives"] for r in i["rows"]]
    assert kept == ["A.C1", "B.C1"]
