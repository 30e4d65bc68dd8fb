"""Property test of editing a row that lives in the ledger's own checklist
(`- [ ] ID.F1: …` under `## TODOs`, as the real loop of dose_experiments-37f759f writes it):
`mark` changes that item's checkbox and appends the note at its end, and nothing else — not
the other items, not the history entries before or after the checklist, not line endings."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings, strategies as st

from ledger.errors import BadInput
from ledger.documents.fix_plan import parse_ledger
from ledger.editing.mark import mark_row
from ledger.markdown.text import SourceText
from ledger.workspace import Workspace
from tests.reliability.test_edit_properties import line_text

INITIATIVE = "PROP-001"
tokens = st.sampled_from(["[ ]", "[x]", "[X]", "[P]"])
body = line_text.map(lambda s: " ".join(s.split()) or "x").filter(lambda s: not s.startswith(("#", "`", "~")))


@st.composite
def ledgers(draw):
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    entry = lambda n: [f"### 2026-01-0{n}T10:00Z — {INITIATIVE}.E{n} (x)", draw(body), f"- [ ] {INITIATIVE}.Z{n}: prose inside an entry", ""]
    lines = ["# Fix Plan", "", "## Attempts History", ""] + entry(1) + ["## TODOs"]
    ids = draw(st.lists(st.sampled_from(["F1", "F2", "G7", "H3.b"]), min_size=1, max_size=4, unique=True))
    for row_id in ids:
        prefix = draw(st.sampled_from([f"{INITIATIVE}.", f"**{INITIATIVE}.", ""]))
        close = "**" if prefix.startswith("**") else ""
        lines.append(f"- {draw(tokens)} {prefix}{row_id}{close}: {draw(body)}")
    lines += ["- **Next actions:** keep going.", ""] + entry(2)
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    return text, [i for i in ids]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers(), st.data())
def test_marking_a_ledger_row_changes_only_its_checkbox_and_note(case, data):
    text, ids = case
    root = Path(tempfile.mkdtemp())
    try:
        (root / "plans/active" / INITIATIVE).mkdir(parents=True)
        (root / "plans/active" / INITIATIVE / "implementation.md").write_text("# PROP-001\n\n- [ ] A1: plan row\n")
        (root / "docs").mkdir()
        (root / "docs/fix_plan.md").write_bytes(text.encode())
        ws = Workspace.open(root)
        rows = {r.id: r for r in ws.rows(INITIATIVE) if r.kind == "todo"}
        doc = parse_ledger(SourceText(None, text, ""))
        prefixed = {i.subject.removeprefix(INITIATIVE + ".") for i in doc.checklist if i.subject.startswith(INITIATIVE + ".")}
        assert set(rows) == prefixed  # `Z1`/`Z2` sit inside entries: prose, not rows
        if not rows:
            return
        row_id = data.draw(st.sampled_from(sorted(rows)))
        state = data.draw(st.sampled_from(["done", "open", "partial"]))
        note = data.draw(st.one_of(st.none(), body))
        target = rows[row_id]
        try:
            change = mark_row(ws, INITIATIVE, row_id, state, note, 5)
        except BadInput as exc:
            event("refused")
            assert "nothing written" in str(exc)
            assert (root / "docs/fix_plan.md").read_bytes() == text.encode()
            return
        new = (root / "docs/fix_plan.md").read_bytes().decode()
        start, end = target.state_span
        expected_token = change.token_after
        rebuilt = text[:start] + expected_token + text[end:]
        line_end = target.guidance_span[1] + len(expected_token) - (end - start)
        if change.note is not None:
            rebuilt = rebuilt[:line_end] + (" " if rebuilt[line_end - 1] != " " else "") + change.note + rebuilt[line_end:]
        event("written")
        assert new == rebuilt
        after = parse_ledger(SourceText(None, new, ""))
        assert [(i.subject, i.line) for i in after.checklist] == [(i.subject, i.line) for i in doc.checklist]
        assert [a.text for a in after.all_attempts()] == [a.text for a in doc.all_attempts()]
    finally:
        shutil.rmtree(root)
