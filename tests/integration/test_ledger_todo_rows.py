"""Rows the loop tracks in the ledger's own checklist (`## TODOs`, `## Completed Items`):
`- [ ] DEBUG-SIM-LINES-DOSE-001.F1: …` names a row its plan file lacks (the layout of the
real ledger dose_experiments-37f759f/docs/fix_plan.md in ../shared/corpus/workspaces).
They are rows of that initiative for status/show/mark/do/brief/audit; a plan row the
ledger ticks differently is an audit finding."""

import json

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from tests.integration.workspace_factory import make_workspace

LEDGER = """# Fix Plan

## Completed Items
- [x] A4: Prose only, done.

## Attempts History

### 2026-01-23T00:15Z — DEMO-001.A4 (done)
**Action:** wrote prose.
- [ ] F9: a checklist inside an entry is the entry's prose, not a row

## TODOs
- [x] DEMO-001.E1: Verify the bundle (cites `plans/active/DEMO-001/reports/2026-01-01T000000Z/`).
- [ ] DEMO-001.F1: Await the maintainer. Test selector: `pytest tests/test_demo.py::test_ok -q`.
- [ ] DEMO-001.A1: the plan has A1 too (the plan row is the row).
- **Next actions:** wait.

```
- [ ] DEMO-001.F2: fenced, not a row
```

### 2026-01-23T08:35Z — DEMO-001.F1 (scan)
**Action:** scanned.
"""


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws", ledger=LEDGER)


def run(ws, *args):
    return CliRunner().invoke(main, [*args, "--root", str(ws)], catch_exceptions=False)


def test_the_ledger_checklist_items_it_reads():
    doc = parse_ledger(SourceText(None, LEDGER, ""))
    assert [(i.subject, i.token, i.section) for i in doc.checklist] == [
        ("A4", "[x]", "Completed Items"),
        ("DEMO-001.E1", "[x]", "TODOs"),
        ("DEMO-001.F1", "[ ]", "TODOs"),
        ("DEMO-001.A1", "[ ]", "TODOs"),
    ]
    f1 = doc.checklist[2]
    assert LEDGER[f1.token_span[0]:f1.token_span[1]] == "[ ]"
    assert LEDGER[f1.body_span[0]:f1.body_span[1]] == f1.body
    assert f1.body.startswith("Await the maintainer.") and f1.row_of("DEMO-001") == "F1"


def test_status_counts_the_rows_only_the_ledger_holds(ws):
    (data,) = json.loads(run(ws, "status", "DEMO-001", "--json").output)["initiatives"]
    phases = {p["title"]: p for p in data["phases"]}
    todo = phases["TODOs (docs/fix_plan.md)"]
    assert [(r["id"], r["state"]) for r in todo["rows"]] == [("E1", "done"), ("F1", "open")]
    assert todo["file"] == "docs/fix_plan.md"
    # Seven plan rows and two ledger rows; A1 is the plan's row, not a second one.
    assert data["counts"] == {"rows": 9, "done": 2, "partial": 0, "open": 7, "unknown": 0}


def test_show_and_brief_accept_a_ledger_row(ws):
    shown = run(ws, "show", "DEMO-001", "F1")
    assert shown.exit_code == 0, shown.output
    assert "docs/fix_plan.md:14" in shown.output
    assert "pytest tests/test_demo.py::test_ok -q" in shown.output
    assert "2026-01-23T08:35Z" in shown.output  # the entry after the TODOs names F1
    brief = run(ws, "brief", "DEMO-001", "F1")
    assert brief.exit_code == 0, brief.output
    assert "DEMO-001" in brief.output and "F1" in brief.output and "tests/test_demo.py::test_ok" in brief.output


def test_mark_changes_only_the_items_checkbox_and_appends_the_note(ws):
    path = ws / "docs/fix_plan.md"
    result = run(ws, "mark", "DEMO-001", "F1", "done", "--note", "maintainer acknowledged")
    assert result.exit_code == 0, result.output
    after = path.read_text()
    before_line = "- [ ] DEMO-001.F1: Await the maintainer. Test selector: `pytest tests/test_demo.py::test_ok -q`."
    line = next(x for x in after.splitlines() if "DEMO-001.F1:" in x)
    assert line.startswith(before_line.replace("[ ]", "[x]", 1) + " ") and line.endswith("maintainer acknowledged")
    # Everything else byte-identical.
    assert after.replace(line, "") == LEDGER.replace(before_line, "")


def test_do_runs_a_ledger_rows_selector_and_records_it(ws):
    result = run(ws, "do", "DEMO-001", "F1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["outcome"] == "passed" and data["state_after"] == "done"
    text = (ws / "docs/fix_plan.md").read_text()
    assert "- [x] DEMO-001.F1: Await the maintainer." in text
    last_heading = [x for x in text.splitlines() if x.startswith("### ")][-1]
    assert "DEMO-001.F1 (passed" in last_heading
    assert text.rstrip().endswith(f"`{data['report_dir']}`")


def test_audit_reports_plan_and_ledger_disagreeing(ws):
    result = run(ws, "audit", "--json")
    data = json.loads(result.output)
    found = sorted((i["line"], i["message"]) for i in data["issues"] if i["kind"] == "plan_ledger")
    # A1 open in the plan and open in the TODOs: they agree. A4 done in the plan ([x]) and in
    # Completed Items: they agree. Nothing to report yet.
    assert found == []
    (ws / "docs/fix_plan.md").write_text(LEDGER.replace("- [ ] DEMO-001.A1:", "- [x] DEMO-001.A1:").replace("- [x] A4:", "- [ ] A4:"))
    result = run(ws, "audit", "--json")
    data = json.loads(result.output)
    found = sorted((i["line"], i["message"], i["failing"]) for i in data["issues"] if i["kind"] == "plan_ledger")
    assert [(line, failing) for line, _, failing in found] == [(4, True), (15, True)]
    assert "A.A4: [x] (done) in plans/active/DEMO-001/implementation.md:" in found[0][1]
    assert "[ ] (open) in the ledger's ## Completed Items" in found[0][1]
    assert "A.A1: [ ] (open)" in found[1][1] and "[x] (done) in the ledger's ## TODOs" in found[1][1]
    assert result.exit_code == 1
