"""Claude-Code checklist plans on a real exported tree (`examples-712c23f`, public data from
hoidn/PtychoPINN, see ../shared/corpus/README.md): several `phase_N_checklist.md` files per
initiative under `plans/examples/`, whose row ids (`0.A`, `1.A`, …) repeat from file to file,
section-divider rows, `[D]`/`[S]` states, id-less checklist items in the plans beside them."""

import json
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from ledger.cli import main

REG = "2025-07-registration-refactor"
SIM = "2025-08-simulation-workflow-unification"


@pytest.fixture
def root(real_workspace):
    root = real_workspace("examples-712c23f")
    # The plans are not under plans/active/: a user points plan_roots at them.
    (root / "ledger.toml").write_text('[tool.ledger]\nplan_roots = ["plans/examples"]\n')
    return root


def run(root, *args):
    return CliRunner().invoke(main, [*args, "--root", str(root)], catch_exceptions=False)


def status(root, initiative=None):
    result = run(root, "status", *([initiative] if initiative else []), "--json")
    assert result.exit_code == 0, result.output
    return {item["initiative"]: item for item in json.loads(result.output)["initiatives"]}


def rows_of(item):
    return [row for phase in item["phases"] for row in phase["rows"]]


def test_row_counts_and_states_per_file(root):
    items = status(root)
    per_file = {
        name: {
            file.rsplit("/", 1)[1]: dict(Counter(r["state"] for r in rows_of(item) if r["file"] == file))
            for file in dict.fromkeys(r["file"] for r in rows_of(item))
        }
        for name, item in items.items()
    }
    assert per_file == {
        REG: {
            "phase_1_checklist.md": {"done": 18},
            "phase_2_checklist.md": {"done": 17},
            "phase_3_checklist.md": {"done": 20},
            # `*   [ ] **Test Case 1:** …` items of the R&D plan: no id, still rows.
            "plan.md": {"open": 4},
        },
        SIM: {
            "implementation.md": {"open": 3},  # `- [ ] **Phase 1:** … - 0% complete`
            "phase_1_checklist.md": {"done": 20},
            "phase_2_checklist.md": {"done": 19, None: 2},  # two `[S]` (skipped) rows
            "phase_final_checklist.md": {"open": 19},
        },
    }
    assert items[REG]["counts"] == {"rows": 59, "done": 55, "partial": 0, "open": 4, "unknown": 0}
    assert items[SIM]["counts"] == {"rows": 63, "done": 39, "partial": 0, "open": 22, "unknown": 2}


def test_phases_are_named_by_the_file_title_and_dividers_raise_no_notes(root):
    items = status(root)
    sim_phases = [(p["file"].rsplit("/", 1)[1], p["key"], p["title"]) for p in items[SIM]["phases"]]
    assert sim_phases == [
        ("implementation.md", None, "Phase Status:"),
        ("phase_1_checklist.md", "1", "Phase 1: Core Refactoring - Replace Monolithic Function Checklist"),
        ("phase_2_checklist.md", "2", "Phase 2: Integration Testing & Validation Checklist"),
        # Not `### Instructions:`, the sub-heading the table sits under.
        ("phase_final_checklist.md", "Final", "Phase Final: Deprecation, Documentation & Cleanup Checklist"),
    ]
    assert [p["title"] for p in items[REG]["phases"]][:3] == [
        "Agent Implementation Checklist: Core Registration Module Development",
        "Agent Implementation Checklist: Integration with Evaluation Pipeline",
        "Agent Implementation Checklist: Validation and Documentation",
    ]
    assert items[REG]["diagnostics"] == []
    # The only notes left are the two states ledger does not know (`[S]`), none for
    # `| **Section 0: …** |` dividers.
    assert [d.split(": ", 1)[1] for d in items[SIM]["diagnostics"]] == [
        "row 5.B: unrecognised state '`[S]`'",
        "row 6.B: unrecognised state '`[S]`'",
    ]


def test_every_listed_row_has_a_reference_that_round_trips_through_show(root):
    for name, item in status(root).items():
        rows = rows_of(item)
        assert len({r["ref"] for r in rows}) == len(rows)
        for row in rows:
            result = run(root, "show", name, row["ref"], "--json")
            assert result.exit_code == 0, (row["ref"], result.output)
            shown = json.loads(result.output)["row"]
            assert (shown["file"], shown["line"], shown["ref"]) == (row["file"], row["line"], row["ref"])
    refs = {r["ref"] for r in rows_of(status(root)[SIM])}
    assert {"phase_1_checklist.md:0.A", "phase_final_checklist.md:0.A", "4.D", "implementation.md#L132"} <= refs


def test_a_repeated_id_is_refused_with_the_references_to_use(root):
    result = CliRunner().invoke(main, ["show", REG, "0.A", "--root", str(root)])
    assert result.exit_code == 2
    assert (
        f"row 0.A of {REG} is ambiguous: name one as "
        f"phase_1_checklist.md:0.A (plans/examples/{REG}/phase_1_checklist.md:15), "
        f"phase_2_checklist.md:0.A (plans/examples/{REG}/phase_2_checklist.md:15), "
        f"phase_3_checklist.md:0.A (plans/examples/{REG}/phase_3_checklist.md:15)"
    ) in result.output


def test_mark_brief_and_do_accept_a_reference(root):
    plan = root / "plans" / "examples" / REG / "phase_2_checklist.md"
    before = plan.read_bytes().split(b"\n")
    result = run(root, "mark", REG, "phase_2_checklist:0.A", "partial")
    assert result.exit_code == 0, result.output
    after = plan.read_bytes().split(b"\n")
    assert [i + 1 for i, (a, b) in enumerate(zip(before, after)) if a != b] == [15]
    assert after[14] == before[14].replace(b"`[D]`", b"`[P]`", 1)

    brief = run(root, "brief", SIM, "phase_final_checklist.md:0.A")
    assert brief.exit_code == 0, brief.output
    assert f"Focus: [{SIM}.phase_final_checklist.md:0.A]" in brief.output
    assert f"`ledger do {SIM} phase_final_checklist.md:0.A`" in brief.output

    dry = run(root, "do", SIM, "phase_final_checklist.md:0.A", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"row:        {SIM} phase_final_checklist.md:0.A (plans/examples/{SIM}/phase_final_checklist.md:20) state [ ]" in dry.output


def test_evidence_of_a_plan_outside_plans_active_goes_under_its_own_folder(root):
    dry = run(root, "do", SIM, "phase_final_checklist.md:0.A", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"report dir: plans/examples/{SIM}/reports/" in dry.output
    # report_root in the settings still wins.
    (root / "ledger.toml").write_text('[tool.ledger]\nplan_roots = ["plans/examples"]\nreport_root = "evidence/{initiative}"\n')
    dry = run(root, "do", SIM, "phase_final_checklist.md:0.A", "--dry-run")
    assert f"report dir: evidence/{SIM}/" in dry.output


def test_audit_and_html_name_rows_by_reference(root, tmp_path):
    audit = run(root, "audit", "--json")
    assert audit.exit_code == 1  # every [D] row is claimed: nothing cites evidence
    names = {item["initiative"]: [r["qualified_id"] for r in item["rows"]] for item in json.loads(audit.output)["initiatives"]}
    assert {name: len(rows) for name, rows in names.items()} == {REG: 59, SIM: 63}
    for rows in names.values():
        assert len(set(rows)) == len(rows)  # no two rows of an initiative share a name
    assert {"phase_1_checklist.md:0.A", "phase_final_checklist.md:0.A", "implementation.md#L132", "1.4.D"} <= set(names[SIM])

    site = run(root, "html", "-o", str(tmp_path / "site"))
    assert site.exit_code == 0, site.output
    page = next((tmp_path / "site").rglob(f"*{REG}*.html")).read_text()
    anchors = re.findall(r'<tr class="row" id="row-([^"]+)"', page)
    assert len(anchors) == 59 and len(set(anchors)) == 59


def test_findings_of_the_200_kb_knowledge_base(root):
    """docs/findings.md: a 98-row table (no separator row) whose ids may have digit-led
    segments, then 21 `## ID - Title` sections that elaborate rows of the table."""
    text = (root / "docs" / "findings.md").read_text()
    table_ids = re.findall(r"^\| ([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{3}) \|", text, re.M)
    section_ids = re.findall(r"^## ([A-Z][A-Z0-9-]*-\d{3}) - ", text, re.M)
    assert (len(table_ids), len(set(table_ids)), len(section_ids)) == (98, 98, 21)
    assert set(section_ids) <= set(table_ids)

    result = run(root, "findings", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    findings = {f["id"]: f for f in data["findings"]}
    assert list(findings) == table_ids
    assert data["duplicates"] == [] and data["unknown_citations"] == []
    assert "PDEBENCH-CNS-SPECTRAL-40EP-001" in findings
    detailed = {fid: f["details_line"] for fid, f in findings.items() if f["details_line"]}
    assert sorted(detailed) == sorted(section_ids)
    assert detailed["PROBE-MASK-DEFAULT-001"] == 105
    assert run(root, "findings").output.rstrip().endswith("98 findings, 0 unknown citations")


def test_a_brief_for_a_reference_passes_check_input(root):
    for reference in ("phase_final_checklist.md:0.A", "implementation.md#L133"):
        target = root / "input.md"
        assert run(root, "brief", SIM, reference, "-o", str(target)).exit_code == 0
        result = run(root, "check-input", str(target), "--no-collect", "--json")
        assert result.exit_code == 0, result.output
        focus = json.loads(result.output)["focus"]
        assert (focus["initiative"], focus["row"]) == (SIM, reference)
