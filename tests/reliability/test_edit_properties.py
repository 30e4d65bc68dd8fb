"""Property tests of the real editing path (Workspace + bookkeeping), beyond
tests/unit/test_roundtrip_property.py (which splices a pre-escaped note into tables):
raw notes with newlines, pipes, backslashes and backticks; checklist rows; padded and
unpadded cells; `mark_row` as the CLI calls it; and attempts appended to ledgers of
both layouts whose other items and entries must not move."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from ledger.editing.bookkeeping import add_attempt, change_row
from ledger.errors import BadInput
from ledger.documents.fix_plan import parse_ledger
from ledger.editing.mark import mark_row
from ledger.markdown.table import escape_cell_text
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from ledger.documents.states import RowState
from ledger.workspace import Workspace

PLAN = "plans/active/PROP-001/implementation.md"
LEDGER = "docs/fix_plan.md"

SPECIAL = ["|", "\\|", "`", "``", "\\", "\\\\`", "<br>", "\u2011", "—", "[x]", "**", "::", "é", "🙂", "\t", "$(x)", "#"]
raw_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
        st.sampled_from(SPECIAL + ["\n", "\r\n", "\r"]),
    ),
    max_size=8,
).map("".join)
line_text = raw_text.map(lambda s: s.replace("\r", " ").replace("\n", " "))


def cell(text: str) -> str:
    """Text as a well-formed plan cell (what a plan that parses holds)."""
    return escape_cell_text(text).strip().rstrip("\\").strip() or "x"


states = st.sampled_from(["[ ]", "[x]", "[P]", "[D]", "`[x]`", "[X]", "[-]", "**[P]**"])


@st.composite
def plans(draw):
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    padded = draw(st.booleans())
    lines = ["# PROP-001 — Properties", "", "### Phase A — Tables", "| ID | Task Description | State | How/Why & Guidance |", "| --- | --- | --- | --- |"]
    for i in range(draw(st.integers(1, 4))):
        description, guidance = cell(draw(line_text)), cell(draw(line_text))
        row_id = draw(st.sampled_from([f"A{i}", f"A{i}.b", f"A-{i}"]))
        if padded:
            lines.append(f"| {row_id} | {description} | {draw(states)} | {guidance} |")
        else:
            lines.append(f"|{row_id}|{description}|{draw(states)}|{guidance}|")
    lines += ["", "### Phase C — Checklist"]
    for i in range(draw(st.integers(0, 3))):
        body = " ".join(draw(line_text).split()) or "x"
        lines.append(f"- {draw(st.sampled_from(['[ ]', '[x]', '[P]']))} C{i}: {body}")
    return eol.join(lines) + draw(st.sampled_from(["", eol]))


def make_ws(root: Path, plan: str, ledger: str | None = None) -> Workspace:
    (root / "plans/active/PROP-001").mkdir(parents=True)
    (root / PLAN).write_bytes(plan.encode("utf-8"))
    (root / "docs").mkdir()
    if ledger is not None:
        (root / LEDGER).write_bytes(ledger.encode("utf-8"))
    return Workspace.open(root)


def snapshot_rows(ws: Workspace):
    plan = parse_plan(SourceText.read(ws.root / PLAN), ws.config.states)
    return plan, [(r.id, r.kind, r.state_token, r.description, r.guidance, r.line) for r in plan.rows]


class TempRoot:
    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="ledger-prop-"))
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


settings_ = settings(max_examples=int(__import__("os").environ.get("PROP_EXAMPLES", "120")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings_
@given(plans(), st.data())
def test_change_row_changes_exactly_the_target_state_and_note(plan_text, data):
    with TempRoot() as root:
        ws = make_ws(root, plan_text)
        before, rows = snapshot_rows(ws)
        assert not before.diagnostics, before.diagnostics
        index = data.draw(st.integers(0, len(before.rows) - 1))
        target = before.rows[index]
        new_state = data.draw(st.sampled_from([RowState.DONE, RowState.PARTIAL, RowState.OPEN]))
        note = data.draw(st.one_of(st.none(), raw_text))
        change_row(ws, target, new_state, note)

        after, new_rows = snapshot_rows(ws)
        assert not after.diagnostics, after.diagnostics
        assert len(new_rows) == len(rows)
        for i, (old, new) in enumerate(zip(rows, new_rows)):
            if i != index:
                assert new == old
                continue
            assert new[:2] == old[:2] and new[5] == old[5]
            # A checklist item's description is its whole body, the note included.
            assert new[3] == (new[4] if target.kind == "checklist" else old[3])
            fresh = after.rows[i]
            assert fresh.state == new_state
            if note and target.kind == "table":
                safe = escape_cell_text(note.strip())
                expected = (target.guidance + (" " if target.guidance else "") + safe).strip()
            elif note:
                expected = " ".join((target.guidance + " " + " ".join(note.split())).split())
            else:
                expected = target.guidance
            assert fresh.guidance == (" ".join(expected.split()) if target.kind == "checklist" else expected)
        # Byte level: only the target's line differs, line endings untouched.
        old_lines = plan_text.encode().split(b"\n")
        new_lines = (root / PLAN).read_bytes().split(b"\n")
        assert len(old_lines) == len(new_lines)
        assert [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b] in ([], [target.line - 1])
        assert all(a.endswith(b"\r") == b.endswith(b"\r") for a, b in zip(old_lines, new_lines))


@settings_
@given(plans(), st.data())
def test_mark_row_as_the_cli_calls_it_keeps_the_table_shape(plan_text, data):
    with TempRoot() as root:
        ws = make_ws(root, plan_text)
        before, rows = snapshot_rows(ws)
        target = data.draw(st.sampled_from(before.rows))
        state = data.draw(st.sampled_from(["done", "x", "[P]", "partial", "open", "[ ]"]))
        note = data.draw(st.one_of(st.none(), raw_text))
        change = mark_row(ws, "PROP-001", target.qualified_id if [r.id for r in before.rows].count(target.id) > 1 else target.id, state, note, 5)
        after, new_rows = snapshot_rows(ws)
        assert not after.diagnostics
        assert [r[:2] for r in new_rows] == [r[:2] for r in rows]
        changed = [i for i, (a, b) in enumerate(zip(rows, new_rows)) if a != b]
        assert changed in ([], [before.rows.index(target)])
        fresh = after.rows[before.rows.index(target)]
        assert fresh.state == change.state_after and fresh.state_token == change.token_after
        if note and note.split():
            assert fresh.guidance.startswith(target.guidance) and "marked" in fresh.guidance


# ------------------------------------------------------------------ ledgers

ITEM_IDS = ["AAA-001", "PROP-001", "B\u2011002"]


@st.composite
def ledgers(draw):
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    layout = draw(st.sampled_from(["items", "global"]))
    lines = ["# Fix Plan Ledger", ""]
    if layout == "items":
        for item in draw(st.lists(st.sampled_from(ITEM_IDS), unique=True, max_size=3)):
            lines += [f"## [{item}] {' '.join(draw(line_text).split()) or 'title'}", "- Status: in_progress"]
            if draw(st.booleans()):
                lines.append("- Attempts History:")
                for number in sorted(draw(st.lists(st.integers(0, 40), unique=True, max_size=3))):
                    text = " ".join(draw(line_text).split()) or "x"
                    lines.append(f"  * [2026-01-0{number % 9 + 1}] Attempt #{number} — {text}")
                    if draw(st.booleans()):
                        lines.append(f"    continuation {' '.join(draw(line_text).split())}".rstrip())
            if draw(st.booleans()):
                lines += ["- Exit Criteria:", "  - green"]
            lines.append("")
    else:
        lines += ["## Attempts History", ""]
        for n in range(draw(st.integers(0, 3))):
            item = draw(st.sampled_from(ITEM_IDS))
            lines += [f"### 2026-01-0{n + 1}T10:00Z — {item} A1 (attempt #{n})", " ".join(draw(line_text).split()) or "x", ""]
        if draw(st.booleans()):
            lines += ["## Notes", "kept below the history"]
    return eol.join(lines) + eol


@settings_
@given(ledgers(), st.sampled_from(ITEM_IDS[:2]), raw_text)
def test_add_attempt_adds_one_entry_and_moves_nothing_else(ledger_text, initiative, summary):
    with TempRoot() as root:
        ws = make_ws(root, "# PROP-001\n", ledger_text)
        doc = parse_ledger(SourceText.read(ws.ledger_path))
        others = {item: [(a.number, a.text) for a in doc.attempts_for(item)] for item in ("AAA-001", "PROP-001", "B-002") if item != initiative}
        if doc.layout == "global":
            others = {item: [(a.date, a.text) for a in doc.attempts_for(item)] for item in others}
        old_attempts = doc.attempts_for(initiative)

        from ledger.render import Renderer

        renderer = Renderer(ws.templates_dir)
        context = {"date": "2026-11-24", "timestamp": "2026-11-24T10:00:00Z", "timestamp_minutes": "2026-11-24T10:00Z",
                   "entry_token": "0a1b2c", "initiative": initiative,
                   "row": None, "row_label": None, "summary": summary, "artifacts": None}
        try:
            added = add_attempt(ws, initiative, lambda number, layout, style: renderer.render_lines(
                "manual_attempt_global.md.j2" if layout == "global" else "manual_attempt.md.j2", **context, **style, number=number))
        except BadInput as exc:
            # Only a ledger already holding an unclosed code fence is refused, untouched.
            assert "would not read back" in str(exc) and re.search(r"(?m)^ {0,3}(```|~~~)", ledger_text)
            assert (root / LEDGER).read_bytes() == ledger_text.encode()
            return

        new_text = (root / LEDGER).read_bytes().decode("utf-8")
        fresh = parse_ledger(SourceText.read(ws.ledger_path))
        new_attempts = fresh.attempts_for(initiative)
        assert len(new_attempts) == len(old_attempts) + 1
        if fresh.layout == "items":
            numbers = [a.number for a in old_attempts]
            assert added.number == (max(numbers) + 1 if numbers else 1)
            assert [a.number for a in new_attempts] == numbers + [added.number]
            assert [(a.number, a.text) for a in new_attempts[:-1]] == [(a.number, a.text) for a in old_attempts]
            for item, attempts in others.items():
                assert [(a.number, a.text) for a in fresh.attempts_for(item)] == attempts
        else:
            # Entries are counted, and no number an entry's heading already carries is reused.
            carried = [int(n) for a in old_attempts for n in re.findall(r"(?i)\battempt\s+#(\d+)", a.label or "")[:1]]
            assert added.number == max([len(old_attempts), *carried]) + 1
            for item, attempts in others.items():
                assert [(a.date, a.text) for a in fresh.attempts_for(item)] == attempts
        # The old text is intact around one inserted block, with its own line endings.
        prefix = 0
        while prefix < min(len(ledger_text), len(new_text)) and ledger_text[prefix] == new_text[prefix]:
            prefix += 1
        inserted = len(new_text) - len(ledger_text)
        assert inserted > 0 and new_text[:prefix] + new_text[prefix + inserted:] == ledger_text
        if "\r\n" in ledger_text:
            assert new_text.count("\n") == new_text.count("\r\n") and new_text.count("\r") == new_text.count("\r\n")
        else:
            assert "\r" not in new_text


@settings_
@given(plans(), st.data())
def test_a_second_note_replacing_the_first_leaves_the_guidance_as_if_only_it_was_added(plan_text, data):
    with TempRoot() as root:
        ws = make_ws(root, plan_text)
        before, rows = snapshot_rows(ws)
        index = data.draw(st.integers(0, len(before.rows) - 1))
        target = before.rows[index]
        first_note, second_note = data.draw(raw_text), data.draw(raw_text)
        assume(first_note.strip() and second_note.strip())
        first = change_row(ws, target, RowState.DONE, first_note)
        second = change_row(ws, target, RowState.PARTIAL, second_note, replacing=first.note)

        after, new_rows = snapshot_rows(ws)
        assert [r for i, r in enumerate(new_rows) if i != index] == [r for i, r in enumerate(rows) if i != index]
        assert after.rows[index].state == RowState.PARTIAL
        # The guidance holds the original text and the second note only, as a single change_row would leave it.
        with TempRoot() as other_root:
            other = make_ws(other_root, plan_text)
            once = change_row(other, parse_plan(SourceText.read(other_root / PLAN), other.config.states).rows[index], RowState.PARTIAL, second_note)
            _, once_rows = snapshot_rows(other)
            assert new_rows[index][4] == once_rows[index][4] and once.note == second.note
