"""Row references: every row of an initiative has one name that `show`, `mark`, `do` and
`brief` accept, also when its id repeats from file to file (Claude-Code checklists number
each `phase_N_checklist.md` from `0.A`) or when it has no id at all."""

import pytest

from ledger.errors import BadInput
from ledger.workspace import Workspace

HEADER = "| ID | Task Description | State | How/Why & API Guidance |\n| :-- | :-- | :-- | :-- |\n"


def checklist(title: str, rows: dict[str, str]) -> str:
    body = "".join(f"| {rid} | **Task {rid}** | `{state}` | guidance |\n" for rid, state in rows.items())
    return f"{title}\n\n{HEADER}| **Section 0: Preparation** | | | |\n{body}"


@pytest.fixture
def ws(tmp_path):
    folder = tmp_path / "plans" / "active" / "CHK-001"
    folder.mkdir(parents=True)
    (folder / "implementation.md").write_text(
        "# CHK-001 plan\n\n### Phase C — Core\n" + HEADER
        + "| C1 | first C1 | [x] | g |\n\n### Phase D — Docs\n" + HEADER
        + "| C1 | second C1 | [ ] | g |\n| D9 | unique | [ ] | g |\n\n## Status\n"
        "- [ ] **Phase 1:** Core refactoring - 0% complete\n"
    )
    (folder / "phase_1_checklist.md").write_text(checklist("# Phase 1: Core Checklist", {"0.A": "[D]", "1.A": "[D]"}))
    (folder / "phase_2_checklist.md").write_text(checklist("# Phase 2: Tests Checklist", {"0.A": "[ ]", "2.B": "[P]"}))
    return Workspace.open(tmp_path)


def test_every_row_has_a_unique_reference(ws):
    refs = {row.ref: (row.path.name, row.id) for row in ws.rows("CHK-001")}
    assert refs == {
        "C.C1": ("implementation.md", "C1"),
        "D.C1": ("implementation.md", "C1"),
        "D9": ("implementation.md", "D9"),
        "implementation.md#L15": ("implementation.md", "L15"),
        "phase_1_checklist.md:0.A": ("phase_1_checklist.md", "0.A"),
        "1.A": ("phase_1_checklist.md", "1.A"),
        "phase_2_checklist.md:0.A": ("phase_2_checklist.md", "0.A"),
        "2.B": ("phase_2_checklist.md", "2.B"),
    }


def test_each_reference_finds_its_own_row(ws):
    for row in ws.rows("CHK-001"):
        assert ws.find_row("CHK-001", row.ref) is row


@pytest.mark.parametrize(
    "reference,file,line",
    [
        ("phase_2_checklist:0.A", "phase_2_checklist.md", 6),  # the .md may be left off
        ("phase_1_checklist.md#L6", "phase_1_checklist.md", 6),
        ("L15", "implementation.md", 15),  # the id status --json gives an item without one
        ("2.B", "phase_2_checklist.md", 7),
    ],
)
def test_other_spellings_of_a_reference(ws, reference, file, line):
    row = ws.find_row("CHK-001", reference)
    assert (row.path.name, row.line) == (file, line)


def test_an_ambiguous_id_offers_the_references_not_a_rename(ws):
    with pytest.raises(BadInput) as caught:
        ws.find_row("CHK-001", "0.A")
    message = caught.value.message
    assert "name one as phase_1_checklist.md:0.A (" in message and "phase_2_checklist.md:0.A (" in message
    assert "new id" not in message and "rename" not in message
    with pytest.raises(BadInput, match="C.C1 .*D.C1"):
        ws.find_row("CHK-001", "C1")


def test_phases_are_named_by_the_file_title_and_dividers_are_no_notes(ws):
    plans = {plan.path.name: plan for plan in ws.plans("CHK-001")}
    checklist_plan = plans["phase_2_checklist.md"]
    assert checklist_plan.diagnostics == []  # `| **Section 0: …** | | | |` divides, it is no row
    assert {row.phase.title for row in checklist_plan.rows} == {"Phase 2: Tests Checklist"}
    assert all(row.section == "Section 0: Preparation" for row in checklist_plan.rows)


def test_an_item_without_id_is_a_row_named_by_its_line(ws):
    item = ws.find_row("CHK-001", "implementation.md#L15")
    assert not item.has_id and item.state == "open" and item.kind == "checklist"
    assert item.description == "**Phase 1:** Core refactoring - 0% complete"
    assert item.label == "implementation.md#L15"


def test_an_attempt_naming_a_reference_names_that_row_only(ws):
    from ledger.reading.show import mentions_row

    first = ws.find_row("CHK-001", "phase_1_checklist.md:0.A")
    second = ws.find_row("CHK-001", "phase_2_checklist.md:0.A")
    text = "Attempt #3 — phase_2_checklist.md:0.A `ledger do`: PASSED"
    assert mentions_row(text, second) and not mentions_row(text, first)
    assert mentions_row("0.A reviewed", first) and mentions_row("0.A reviewed", second)
    item = ws.find_row("CHK-001", "implementation.md#L15")
    assert mentions_row("marked implementation.md#L15 done", item) and not mentions_row("L15", item)
