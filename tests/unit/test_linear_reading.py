"""Reading stays linear in the file size when cells and headings are padded with long runs of
spaces (real 2025-07 checklists pad a header cell with ~13,000: a quadratic regex made
status/audit/html take seconds; see ../shared/corpus/a19c2cc__…phase_1_checklist.md).

No strict wall-time assert: each padded read is compared with reading a file of the same size
without such runs, in CPU time, with a wide margin (linear: about 1x; the quadratic regexes
took minutes for 100 KB)."""

import time
from pathlib import Path

import pytest

from ledger.documents.findings import parse_findings
from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan

PAD = " " * 100_000  # a 100 KB run of spaces
FILLER = "x" * 100_000  # the same size, no run to backtrack over


def header_plan(pad: str) -> str:
    return (
        f"# X-001 plan\n\n### Phase A — Start{pad}now\n\n"
        f"| ID | Task Description | State | How/Why &{pad}API Guidance |\n"
        "| :-- | :-- | :-- | :-- |\n"
        f"| **Section 0:{pad}Prep** | | | |\n"
        f"| A1 | **Task{pad}one** | `[D]` | guidance{pad}`pytest tests/a.py::t` |\n"
        f"- [ ] A2:{pad}checklist item\n"
        f"+| pasted diff row {pad} x |\n"
    )


READERS = {
    "plan": lambda text: parse_plan(SourceText(Path("plan.md"), text, "")),
    "ledger": lambda text: parse_ledger(SourceText(Path("fix_plan.md"), text, "")),
    "findings": lambda text: parse_findings(SourceText(Path("findings.md"), text, "")),
}
DOCUMENTS = {
    "plan": header_plan,
    "ledger": lambda pad: f"# Fix Plan\n\n## [X-001] Title{pad}end\n* [2025-01-01] Attempt #1 — A1:{pad}done\n### 2025-01-01T00:00Z — X-001 A1{pad}(label)\n",
    "findings": lambda pad: f"# Findings\n\n| Finding ID | Synopsis{pad}here | Status |\n| POLICY-001 | text{pad}more | Active |\n## POLICY-001 - title{pad}end\n",
}


def cpu_seconds(read, text: str) -> float:
    start = time.process_time()
    read(text)
    return time.process_time() - start


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_padded_cells_and_headings_read_in_linear_time(kind):
    read, document = READERS[kind], DOCUMENTS[kind]
    baseline = min(cpu_seconds(read, document(FILLER)) for _ in range(3))
    padded = cpu_seconds(read, document(PAD))
    assert padded < 20 * baseline + 0.5, f"{kind}: {padded:.3f}s padded vs {baseline:.3f}s unpadded"


def test_the_padded_plan_still_reads_right():
    plan = READERS["plan"](header_plan(PAD))
    assert [(row.id, row.state, row.section) for row in plan.rows] == [("A1", "done", "Section 0:" + PAD + "Prep"), ("A2", "open", None)]
    assert plan.rows[0].phase.key == "A"
    assert [d.message.split(";")[0] for d in plan.diagnostics] == ["stray diff prefix '+' before a table row"]
