from pathlib import Path

from ledger.markdown.splice import apply_splices
from ledger.documents.fix_plan import LedgerLayout, append_attempt, parse_ledger, split_subject
from ledger.markdown.text import SourceText


def ledger_of(text: str):
    return parse_ledger(SourceText(Path("fix_plan.md"), text, "0"))


ITEMS_LEDGER = """# Fix Plan Ledger

## [ALPHA-001] First item
- Priority: High
- Attempts History:
  * [2025-10-16] Attempt #0 — Planning: created.
  * [2025-10-17] Attempt #1 — Phase A.A1: inventory.
    continued detail line
  * [2025-10-18] Attempt #3 — Phase A.A2: skipped a number on purpose.
- Exit Criteria:
  - something

## [BETA-002] Second
- Status: pending
"""


def test_items_layout_numbers_and_fields():
    doc = ledger_of(ITEMS_LEDGER)
    assert doc.layout == LedgerLayout.ITEMS
    alpha = doc.items["ALPHA-001"]
    assert [a.number for a in alpha.attempts] == [0, 1, 3]
    assert alpha.next_attempt_number() == 4
    assert alpha.fields["Priority"][1] == "High"
    assert alpha.attempts[1].text.endswith("continued detail line")
    assert doc.next_attempt_number("BETA-002") == 1
    assert doc.next_attempt_number("MISSING") == 1


def test_append_lands_after_last_attempt_and_its_continuation():
    doc = ledger_of(ITEMS_LEDGER)
    new = apply_splices(ITEMS_LEDGER, [append_attempt(doc, "ALPHA-001", ["[2025-10-19] Attempt #4 — new"])])
    assert new.replace("  * [2025-10-19] Attempt #4 — new\n", "", 1) == ITEMS_LEDGER
    lines = new.splitlines()
    assert lines[lines.index("  * [2025-10-19] Attempt #4 — new") - 1].startswith("  * [2025-10-18] Attempt #3")


def test_append_to_item_without_attempts_adds_the_field():
    doc = ledger_of(ITEMS_LEDGER)
    new = apply_splices(ITEMS_LEDGER, [append_attempt(doc, "BETA-002", ["[d] Attempt #1 — x"])])
    assert new == ITEMS_LEDGER + "- Attempts History:\n  * [d] Attempt #1 — x\n"


def test_append_for_missing_item_creates_it():
    doc = ledger_of(ITEMS_LEDGER)
    new = apply_splices(ITEMS_LEDGER, [append_attempt(doc, "GAMMA-003", ["[d] Attempt #1 — x"], "Gamma")])
    assert new.startswith(ITEMS_LEDGER)
    assert new[len(ITEMS_LEDGER):] == "\n## [GAMMA-003] Gamma\n- Attempts History:\n  * [d] Attempt #1 — x\n"


def test_crlf_file_stays_crlf():
    text = ITEMS_LEDGER.replace("\n", "\r\n")
    doc = ledger_of(text)
    new = apply_splices(text, [append_attempt(doc, "ALPHA-001", ["[d] Attempt #4 — y"])])
    assert "\n" not in new.replace("\r\n", "")
    assert new.replace("  * [d] Attempt #4 — y\r\n", "") == text


def test_file_without_final_newline():
    text = ITEMS_LEDGER.rstrip("\n") + "\n- Attempts History:\n  * [d] Attempt #0 — last"
    doc = ledger_of(text)
    new = apply_splices(text, [append_attempt(doc, "BETA-002", ["[d] Attempt #1 — z"])])
    assert new == text + "\n  * [d] Attempt #1 — z"


GLOBAL_LEDGER = """# Fix Plan

## Attempts History

### 2026-01-22T02:40Z — seed S1–S2 (initial)
**Action:** did.

### 2026-01-23T00:35Z — DEBUG-SIM-001.C1/C2 (shipped)
**Action:** shipped.

## TODOs
- later
"""


def test_global_layout_entries():
    doc = ledger_of(GLOBAL_LEDGER)
    assert doc.layout == LedgerLayout.GLOBAL
    assert [(a.initiative, a.rows, a.label) for a in doc.history.entries] == [
        ("seed", ("S1", "S2"), "initial"),
        ("DEBUG-SIM-001", ("C1", "C2"), "shipped"),
    ]
    assert doc.next_attempt_number("DEBUG-SIM-001") == 2


def test_global_append_goes_before_next_section():
    doc = ledger_of(GLOBAL_LEDGER)
    new = apply_splices(GLOBAL_LEDGER, [append_attempt(doc, "DEBUG-SIM-001", ["### 2026 — DEBUG-SIM-001 D1 (passed)", "body"])])
    assert "**Action:** shipped.\n\n### 2026 — DEBUG-SIM-001 D1 (passed)\nbody\n\n## TODOs" in new


def test_empty_ledger():
    doc = ledger_of("")
    assert doc.layout == LedgerLayout.EMPTY
    new = apply_splices("", [append_attempt(doc, "A-1", ["[d] Attempt #1 — x"], "A")])
    assert new == "## [A-1] A\n- Attempts History:\n  * [d] Attempt #1 — x\n"


def test_split_subject():
    assert split_subject("DEBUG-SIM-LINES-DOSE-001.A1") == ("DEBUG-SIM-LINES-DOSE-001", ("A1",))
    assert split_subject("seed S3") == ("seed", ("S3",))
    assert split_subject("X-1 (plan reboot)") == ("X-1", ())
    # A repeated id, named by its phase as `ledger do` writes it, keeps the phase (it was dropped).
    assert split_subject("GOLD-001.B.C1") == ("GOLD-001", ("B.C1",))
    assert split_subject("GOLD-001 Phase B.C1") == ("GOLD-001", ("B.C1",))
    assert split_subject("GOLD-001.B.C1/C2") == ("GOLD-001", ("B.C1", "C2"))
