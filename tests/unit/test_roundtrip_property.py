"""Property tests for the Markdown editor: no-op edits are byte-identical, and a
state flip or note changes exactly the intended cell, whatever the cell text."""

from pathlib import Path

from hypothesis import given, settings, strategies as st

from ledger.markdown.splice import Splice, apply_splices
from ledger.markdown.table import escape_cell_text
from ledger.markdown.text import SourceText, split_lines
from ledger.documents.plan import parse_plan
from ledger.documents.states import RowState, StateVocabulary

cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    max_size=40,
).map(escape_cell_text).map(lambda s: s.strip() or "x")
states = st.sampled_from(["[ ]", "[x]", "[P]", "[D]", "`[x]`", "[X]"])
eols = st.sampled_from(["\n", "\r\n"])


@st.composite
def plan_documents(draw):
    eol = draw(eols)
    n = draw(st.integers(1, 6))
    rows = []
    for i in range(n):
        rows.append(f"| R{i} | {draw(cell_text)} | {draw(states)} | {draw(cell_text)} |")
    trailing = draw(st.sampled_from(["", eol, eol + eol]))
    lines = ["# Plan", "", "### Phase R — Rows", "| ID | Task Description | State | How/Why & Guidance |", "| --- | --- | --- | --- |", *rows]
    return eol.join(lines) + trailing


@given(st.text(max_size=300))
def test_lines_reassemble_exactly(text):
    assert "".join(line.text + line.eol for line in split_lines(text)) == text


@given(st.text(max_size=300))
def test_no_op_splice_is_byte_identical(text):
    assert apply_splices(text, []) == text
    assert apply_splices(text, [Splice(len(text) // 2, len(text) // 2, "")]) == text


@settings(max_examples=150, deadline=None)
@given(plan_documents(), st.data())
def test_flip_and_note_change_only_the_target_row(document, data):
    vocabulary = StateVocabulary()
    plan = parse_plan(SourceText(Path("p.md"), document, "0"), vocabulary)
    assert len(plan.rows) >= 1
    row = data.draw(st.sampled_from(plan.rows))
    target = data.draw(st.sampled_from([RowState.DONE, RowState.PARTIAL, RowState.OPEN]))
    note = escape_cell_text(data.draw(st.text(max_size=30)))
    end = row.guidance_span[1]
    new = apply_splices(document, [Splice(*row.state_span, vocabulary.token_for(target)), Splice(end, end, " " + note)])
    reparsed = parse_plan(SourceText(Path("p.md"), new, "0"), vocabulary)
    assert [r.id for r in reparsed.rows] == [r.id for r in plan.rows]
    for old, fresh in zip(plan.rows, reparsed.rows):
        if old.id == row.id:
            assert fresh.state == target
            assert fresh.guidance == (old.guidance + " " + note).strip()
        else:
            assert (fresh.state_token, fresh.guidance, fresh.description) == (old.state_token, old.guidance, old.description)
    old_lines, new_lines = document.split("\n"), new.split("\n")
    assert [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b] in ([row.line - 1], [])
    assert len(old_lines) == len(new_lines)
