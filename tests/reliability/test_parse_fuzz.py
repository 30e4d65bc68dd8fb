"""Arbitrary text never crashes the readers, and every span they report points at
the characters it names (the precondition of every splice-based edit)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.table import split_cells
from ledger.markdown.text import SourceText, split_lines
from ledger.documents.plan import parse_plan

PIECES = ["|", "| ID | Task | State | How/Why & Guidance |", "| --- | --- | --- | --- |", "| A1 | d | [ ] | g |", "[x]",
          "`", "```", "~~~", "\\", "\n", "\r\n", "\r", "## [X-1] t", "### Phase A — a", "- [ ] C1: c", "-| A2 | d | [x] | g |",
          "- Attempts History:", "  * [2026-01-01] Attempt #3 — a", "## Attempts History", "### 2026-01-01T00:00Z — X-1 A1 (l)",
          "\u2011", "\u2028", "\x0b", "<br>", " ", "A1"]
documents = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_plan_parser_never_crashes_and_its_spans_are_exact(text):
    plan = parse_plan(SourceText(Path("p.md"), text, ""))
    for row in plan.rows:
        start, end = row.state_span
        assert 0 <= start <= end <= len(text)
        # The token itself, or (no token: the row cannot be flipped) the whole state cell.
        assert text[start:end] == row.state_token or not row.state_token
        g_start, g_end = row.guidance_span
        line = split_lines(text)[row.line - 1]
        # Both spans lie on the row's own line, so an edit never touches another line.
        assert line.start <= start <= end <= line.end and line.start <= g_end <= line.end
        if row.kind == "table" and g_start <= g_end:
            assert text[g_start:g_end] == row.guidance


@settings(max_examples=300, deadline=None)
@given(documents)
def test_ledger_parser_never_crashes_and_numbers_are_read_not_invented(text):
    doc = parse_ledger(SourceText(Path("l.md"), text, ""))
    for attempt in doc.all_attempts():
        assert 1 <= attempt.line <= attempt.end_line <= len(text.splitlines()) + 1
        if attempt.number is not None:
            assert f"#{attempt.number}" in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_split_cells_covers_the_line_between_pipes(line):
    cells = split_cells(line)
    if cells is None:
        return
    for cell in cells:
        assert line[cell.start:cell.end] == cell.raw
        assert cell.raw.strip() == line[cell.content_start:cell.content_end] or cell.content_end < cell.content_start
    assert [c.start for c in cells] == sorted(c.start for c in cells)
