"""`ledger audit` classes and exit codes on real workspaces (one per class), and on the real corpus."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import snapshot
from tests.integration.workspace_factory import LEDGER, make_workspace

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Audit demo

    ### Phase A — Runs
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | A1 | Passing selector | [ ] | Run `pytest tests/test_demo.py::test_ok -q`. |
    | A2 | Failing selector | [ ] | Run `pytest tests/test_demo.py::test_bad -q`. |

    ### Phase B — Hand-made evidence
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | B1 | Hand evidence | [x] | See `reports/2025-01-01T000000Z/phase_b/summary.md`. |
    | B2 | Missing evidence | [x] | See `reports/2025-01-02T000000Z/phase_b/summary.md`. |
    | B3 | Placeholder | [x] | Evidence under `reports/<TS>/phase_b/`. |
    | B4 | Nothing cited | [x] | Done, trust me. |
    | B5 | Brace list | [x] | `reports/2025-01-03T{000000Z,010000Z}/{summary.md,pytest.log}` |
    | B6 | Cited by an attempt | [x] | See the ledger. |
    | B7 | Still open | [ ] | Later. |
    """
)

OLD_ATTEMPT = "  * [2026-11-02] Attempt #1 — Phase A.A4: prose.\n"
assert OLD_ATTEMPT in LEDGER
AUDIT_LEDGER = LEDGER.replace(
    OLD_ATTEMPT,
    "  * [2026-11-02] Attempt #1 — Phase B.B6: evidence in `plans/active/DEMO-001/reports/2025-01-04T000000Z/notes.md`.\n",
)


@pytest.fixture
def ws(tmp_path):
    root = make_workspace(tmp_path / "ws", plan=PLAN, ledger=AUDIT_LEDGER)
    reports = root / "plans/active/DEMO-001/reports"
    (reports / "2025-01-01T000000Z/phase_b").mkdir(parents=True)
    (reports / "2025-01-01T000000Z/phase_b/summary.md").write_text("hand-written\n")
    (reports / "2025-01-03T010000Z").mkdir(parents=True)
    (reports / "2025-01-03T010000Z/pytest.log").write_text("1 passed\n")
    (reports / "2025-01-04T000000Z").mkdir(parents=True)
    (reports / "2025-01-04T000000Z/notes.md").write_text("notes\n")
    return root


def run(ws: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--root", str(ws)], catch_exceptions=False)


def audit_json(ws: Path, *args: str) -> tuple[int, dict]:
    result = run(ws, "audit", "--json", *args)
    return result.exit_code, json.loads(result.output)


def classes(data: dict) -> dict[str, str]:
    return {row["row"]: row["audit"] for item in data["initiatives"] for row in item["rows"]}


def reasons(data: dict, row_id: str) -> str:
    row = next(r for item in data["initiatives"] for r in item["rows"] if r["row"] == row_id)
    return "\n".join(r["text"] for r in row["reasons"])


def only_b_rows(ws: Path) -> None:
    """Drop the B rows that fail the audit, to see an exit 0."""
    plan = ws / "plans/active/DEMO-001/implementation.md"
    keep = [line for line in plan.read_text().splitlines(keepends=True) if not line.startswith(("| B2 ", "| B3 ", "| B4 "))]
    plan.write_text("".join(keep))


def test_hand_made_rows(ws):
    code, data = audit_json(ws)
    got = classes(data)
    assert got["B1"] == "evidenced"
    assert got["B2"] == "claimed" and "cited but missing: reports/2025-01-02T000000Z/phase_b/summary.md" in reasons(data, "B2")
    assert got["B3"] == "claimed" and "placeholder, not a path: reports/<TS>/phase_b/" in reasons(data, "B3")
    assert got["B4"] == "claimed" and "cites evidence" in reasons(data, "B4")
    assert got["B5"] == "evidenced" and "reports/2025-01-03T000000Z/summary.md" in reasons(data, "B5")
    assert got["B6"] == "evidenced"  # through Attempt #1, which names B6
    assert got["A1"] == got["A2"] == got["B7"] == "open"
    assert code == 1 and data["exit_code"] == 1
    # Reasons carry file:line.
    assert "plans/active/DEMO-001/implementation.md:15:" in reasons(data, "B4")


def test_strict_fails_on_evidenced(ws):
    only_b_rows(ws)
    assert run(ws, "audit").exit_code == 0
    assert run(ws, "audit", "--strict").exit_code == 1


def test_ledger_do_run_is_verified(ws):
    only_b_rows(ws)
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    code, data = audit_json(ws)
    assert classes(data)["A1"] == "verified" and code == 0


def test_hand_edited_log_after_do_is_tampered(ws):
    only_b_rows(ws)
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    (log,) = (ws / "plans/active/DEMO-001/reports").glob("*/phase_a_runs/pytest.log")
    log.write_text(log.read_text().replace("1 passed", "2 passed"))
    code, data = audit_json(ws)
    assert classes(data)["A1"] == "tampered" and code == 1
    assert "pytest.log: sha256 differs" in reasons(data, "A1")
    assert any(i["kind"] == "tampered_report" for i in data["issues"])


def test_deleted_evidence_file_is_missing_not_tampered(ws):
    """A file gone with nothing edited is what a clone sees of evidence never committed: the
    row fails as 'missing', with the fix, not as tampered."""
    only_b_rows(ws)
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    (junit,) = (ws / "plans/active/DEMO-001/reports").glob("*/phase_a_runs/junit.xml")
    junit.unlink()
    code, data = audit_json(ws)
    assert classes(data)["A1"] == "missing" and code == 1
    assert "files missing on this clone" in reasons(data, "A1") and "junit.xml" in reasons(data, "A1")
    assert any(i["kind"] == "missing_evidence" for i in data["issues"])


def test_a_deleted_file_next_to_an_edited_one_is_tampered(ws):
    only_b_rows(ws)
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    (junit,) = (ws / "plans/active/DEMO-001/reports").glob("*/phase_a_runs/junit.xml")
    junit.unlink()
    log = junit.parent / "pytest.log"
    log.write_text(log.read_text() + "edited\n")
    code, data = audit_json(ws)
    assert classes(data)["A1"] == "tampered" and "junit.xml: listed in the manifest but missing" in reasons(data, "A1")


def test_done_after_a_failed_run_is_contradicted(ws):
    only_b_rows(ws)
    assert run(ws, "do", "DEMO-001", "A2").exit_code == 1
    assert run(ws, "mark", "DEMO-001", "A2", "done").exit_code == 0
    code, data = audit_json(ws)
    assert classes(data)["A2"] == "contradicted" and code == 1
    assert "failed" in reasons(data, "A2")


def test_open_after_a_passing_run_is_contradicted(ws):
    only_b_rows(ws)
    assert run(ws, "do", "DEMO-001", "A1", "--no-flip").exit_code == 0
    code, data = audit_json(ws)
    assert classes(data)["A1"] == "contradicted" and "stale state" in reasons(data, "A1")
    assert code == 1


def test_partial_row_is_listed_with_its_newest_run(ws):
    assert run(ws, "do", "DEMO-001", "A2").exit_code == 1
    _, data = audit_json(ws)
    assert classes(data)["A2"] == "partial" and "failed" in reasons(data, "A2")


def test_workspace_issues(ws):
    ledger = ws / "docs/fix_plan.md"
    ledger.write_text(
        ledger.read_text().replace(
            "- Exit Criteria:",
            "  * [2026-11-03] Attempt #1 — again: `reports/2025-09-09T000000Z/gone.md`.\n"
            "  * [2026-11-04] Attempt #4 — skipped two.\n"
            "- Exit Criteria:",
        )
    )
    plan = ws / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text() + "\nSee CONFIG-009 in the findings ledger.\n")
    (ws / "stray.log").write_text("oops\n")
    orphan = ws / "plans/active/DEMO-001/reports/2025-02-02T000000Z/phase_x"
    orphan.mkdir(parents=True)
    (orphan / "manifest.json").write_text(json.dumps({"complete": False, "row": "Z1"}))
    _, data = audit_json(ws)
    kinds = {}
    for issue in data["issues"]:
        kinds.setdefault(issue["kind"], []).append(issue["text"])
    assert any("Attempt #1 appears twice" in t for t in kinds["attempt_numbers"])
    assert any("skip #2, #3" in t for t in kinds["attempt_numbers"])
    assert any("reports/2025-09-09T000000Z/gone.md, which does not exist" in t for t in kinds["missing_artifact"])
    assert any("CONFIG-009" in t for t in kinds["unknown_finding"])
    assert any("2025-02-02T000000Z/phase_x/ is cited by no row" in t for t in kinds["orphan_report"])
    assert any("half-written" in t for t in kinds["incomplete_report"])
    assert kinds["root_log"] == ["stray.log: stray.log left at the workspace root; evidence belongs in a report folder"]


def test_text_output_groups_by_initiative(ws):
    result = run(ws, "audit")
    assert result.exit_code == 1
    assert result.output.startswith("DEMO-001  (9 rows)")
    assert "claimed" in result.output and "verdict: FAIL (claimed)" in result.output


def test_unknown_initiative_exit_2(ws):
    result = CliRunner().invoke(main, ["audit", "NOPE-9", "--root", str(ws)])
    assert result.exit_code == 2 and "unknown initiative" in result.output


def test_corpus_workspace_never_crashes_and_is_not_changed(corpus_workspace):
    before = snapshot(corpus_workspace)
    result = CliRunner().invoke(main, ["audit", "--json", "--root", str(corpus_workspace)], catch_exceptions=False)
    assert result.exit_code in (0, 1)
    data = json.loads(result.output)
    assert {item["initiative"] for item in data["initiatives"]} >= {"TEST-PYTORCH-001", "INTEGRATE-PYTORCH-001"}
    # The real TEST-PYTORCH-001 D1 cites its runtime_profile.md, which the corpus holds: hand-made evidence.
    assert classes(data)["D1"] == "evidenced"
    text = CliRunner().invoke(main, ["audit", "--root", str(corpus_workspace)], catch_exceptions=False)
    assert "Traceback" not in text.output and "verdict:" in text.output
    assert snapshot(corpus_workspace) == before


def test_ledger_item_without_a_plan_folder_is_reported(ws):
    ledger = ws / "docs/fix_plan.md"
    ledger.write_text(ledger.read_text() + "\n## [OTHER-9] Elsewhere\n- Attempts History:\n  * [2026-11-05] Attempt #1 — done.\n")
    _, data = audit_json(ws)
    (issue,) = [i for i in data["issues"] if i["kind"] == "ledger_item"]
    assert "[OTHER-9] has no plan folder" in issue["text"] and issue["line"] == 11


def test_file_added_after_the_run_is_named_but_not_tampering(ws):
    only_b_rows(ws)
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    (folder,) = (ws / "plans/active/DEMO-001/reports").glob("*/phase_a_runs")
    (folder / "extra_green.log").write_text("1 passed\n")
    code, data = audit_json(ws)
    assert classes(data)["A1"] == "verified" and code == 0
    assert "extra_green.log: added after the run (not in the manifest)" in reasons(data, "A1")


def test_checklist_item_citation_is_reported_once(ws):
    """A checklist item's body is both its description and its guidance; its citations count once."""
    plan = ws / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text() + "\n### Phase C — Checklist\n- [x] C1: Wrote it (see `reports/2025-01-05T000000Z/notes.md`).\n")
    code, data = audit_json(ws)
    assert classes(data)["C1"] == "claimed"
    assert reasons(data, "C1").count("cited but missing: reports/2025-01-05T000000Z/notes.md") == 1


def test_a_file_the_row_and_its_attempt_both_cite_is_listed_once(ws):
    """Seen on the real dose_experiments workspace: a row and an attempt naming it cite the same
    file, and the evidenced row listed it twice."""
    plan = ws / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text().replace(
        "| B6 | Cited by an attempt | [x] | See the ledger. |",
        "| B6 | Cited by an attempt | [x] | See `reports/2025-01-04T000000Z/notes.md`. |",
    ))
    code, data = audit_json(ws)
    row = next(r for item in data["initiatives"] for r in item["rows"] if r["row"] == "B6")
    assert row["audit"] == "evidenced"
    assert row["evidence"] == ["plans/active/DEMO-001/reports/2025-01-04T000000Z/notes.md"]
    assert reasons(data, "B6").count("2025-01-04T000000Z/notes.md") == 1
