from pathlib import Path

import pytest

from ledger.markdown.text import SourceText
from ledger.documents.plan import derive_phase_slug, parse_plan
from ledger.documents.states import RowState


def plan_of(text: str):
    return parse_plan(SourceText(Path("plan.md"), text, "0"))


TABLE_PLAN = """# X-001 — Plan

### Phase D — Regression Hardening & Documentation
Goal: g

| ID | Task Description | State | How/Why & Guidance |
| --- | --- | --- | --- |
| D1 | Record runtime | [ ] | Run `CUDA_VISIBLE_DEVICES="" pytest tests/t.py::test_a -vv`. |
| D2 | Update docs | `[x]` | done |
| D3 | Partial | [P] | blocked |

### Phase E — Other
| State | ID | How/Why & Guidance | Task Description |
| --- | --- | --- | --- |
| [D] | E2.A1 | reordered columns | Task |
"""


def test_table_rows_located_by_header_not_position():
    plan = plan_of(TABLE_PLAN)
    rows = {r.id: r for r in plan.rows}
    assert [r.id for r in plan.rows] == ["D1", "D2", "D3", "E2.A1"]
    assert rows["D1"].state == RowState.OPEN and rows["D2"].state == RowState.DONE and rows["D3"].state == RowState.PARTIAL
    assert rows["E2.A1"].state == RowState.DONE and rows["E2.A1"].description == "Task"
    assert rows["E2.A1"].guidance == "reordered columns"


def test_state_span_is_exactly_the_token():
    plan = plan_of(TABLE_PLAN)
    text = plan.source.text
    for row in plan.rows:
        start, end = row.state_span
        assert text[start:end] == row.state_token
    d2 = next(r for r in plan.rows if r.id == "D2")
    assert d2.state_token == "[x]"  # the backticks stay outside the span


def test_guidance_span_and_phase():
    plan = plan_of(TABLE_PLAN)
    d1 = plan.rows[0]
    assert plan.source.text[slice(*d1.guidance_span)] == d1.guidance
    assert d1.phase.key == "D" and d1.phase.slug == "phase_d_hardening"
    assert d1.line == 8 and d1.kind == "table"


def test_checklist_rows():
    plan = plan_of(
        "### Phase A — Manifest + Verification\n"
        "- [x] A1: Implemented the manifest.\n"
        "- [ ] A2: Re-run `pytest tests/a.py::t -q`.\n"
        "- [ ] Phase E1 artifacts stored (no id: a row all the same, named by its line)\n"
        "  - [P] **S4**: bold id\n"
        "- [see below] a link, not a task\n"
    )
    assert [(r.id, r.has_id, r.state, r.kind) for r in plan.rows] == [
        ("A1", True, RowState.DONE, "checklist"), ("A2", True, RowState.OPEN, "checklist"),
        ("L4", False, RowState.OPEN, "checklist"), ("S4", True, RowState.PARTIAL, "checklist"),
    ]
    assert plan.rows[2].description == "Phase E1 artifacts stored (no id: a row all the same, named by its line)"
    a2 = plan.rows[1]
    assert plan.source.text[slice(*a2.state_span)] == "[ ]"
    assert plan.source.text[slice(*a2.guidance_span)] == "Re-run `pytest tests/a.py::t -q`."


def test_section_divider_rows_and_padded_header():
    plan = plan_of(
        "| ID  | Task Description       | State | How/Why & API Guidance |\n"
        "| :-- | :--------------------- | :---- | :--------------------- |\n"
        "| **Section 0: Preparation**\n"
        "| 0.A | **Review docs**        | `[D]` | **Why:** context <br> **How:** read |\n"
    )
    (row,) = plan.rows
    assert row.id == "0.A" and row.state == RowState.DONE and row.section == "Section 0: Preparation"
    assert row.description == "Review docs"


def test_tables_inside_code_fences_are_ignored():
    plan = plan_of("```\n| ID | Task | State | How/Why |\n| --- | --- | --- | --- |\n| A1 | t | [x] | g |\n```\n")
    assert plan.rows == []


def test_unknown_state_is_diagnosed_with_line():
    plan = plan_of("| ID | Task | State | How/Why |\n| --- | --- | --- | --- |\n| A1 | t | done | g |\n")
    assert plan.rows[0].state is None
    assert "unrecognised state" in plan.diagnostics[0].message and plan.diagnostics[0].line == 3


def test_short_row_is_diagnosed_not_crashing():
    plan = plan_of("| ID | Task | State | How/Why |\n| --- | --- | --- | --- |\n| A1 | t |\n")
    assert plan.rows == [] and "cells" in plan.diagnostics[0].message


def test_slug_prefers_the_folder_the_phase_already_cites():
    plan = plan_of(
        "### Phase B — Fixture Minimization\n"
        "Evidence: `reports/2025-10-19T215300Z/phase_b_fixture/x.md`\n"
        "| ID | Task | State | How/Why |\n| --- | --- | --- | --- |\n| B1 | t | [x] | g |\n"
    )
    assert plan.rows[0].phase.slug == "phase_b_fixture"


@pytest.mark.parametrize(
    "key,title,slug",
    [
        ("D", "Phase D — Regression Hardening & Documentation", "phase_d_hardening"),
        ("A", "Phase A — Architecture Carve-Out", "phase_a_carve_out"),
        ("E2", "Phase E2 — Integration Regression & Parity Harness", "phase_e2_regression"),
        ("C", "Phase C", "phase_c"),
    ],
)
def test_derive_phase_slug(key, title, slug):
    assert derive_phase_slug(key, title) == slug


def test_non_phase_heading_ends_the_phase():
    plan = plan_of(
        "### Phase A — One\n| ID | T | State | How/Why |\n| - | - | - | - |\n| A1 | t | [x] | g |\n"
        "### Exit Checklist\n- [ ] X1: exit item\n"
    )
    assert plan.rows[0].phase.key == "A" and plan.rows[1].phase.key is None


def test_bold_section_heading_is_titled_without_its_emphasis():
    # The shape of the real registration-refactor checklist in the corpus.
    plan = plan_of("### **Agent Checklist: Core Module**\n\n| ID | Task Description | State | How/Why & API Guidance |\n| :-- | :-- | :-- | :-- |\n| 0.A | **Review** | `[D]` | Why.\n")
    assert [p.title for p in plan.phases] == ["Agent Checklist: Core Module"]
    assert plan.rows[0].phase.title == "Agent Checklist: Core Module" and plan.rows[0].state == RowState.DONE


def test_description_keeps_a_code_span_at_its_end_and_loses_wrapping_bold():
    # Row shapes of the real INTEGRATE-PYTORCH-001 plan and the registration checklist.
    plan = plan_of(
        "### Phase C — X\n| ID | Task Description | State | How/Why & Guidance |\n| --- | --- | --- | --- |\n"
        "| C4 | Implement `PtychoDataContainerTorch` | [x] | g |\n"
        "| C5 | **Review Key Documents** | [x] | g |\n"
        "| C6 | **a** and **b** | [x] | g |\n"
    )
    assert [r.description for r in plan.rows] == ["Implement `PtychoDataContainerTorch`", "Review Key Documents", "**a** and **b**"]
