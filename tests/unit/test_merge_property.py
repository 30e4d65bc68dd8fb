"""Property: any two loops' attempt appends and row flips merge cleanly, losing nothing."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.editing.merge import merge_texts
from ledger.documents.plan import parse_plan

ITEMS = ("AAA-001", "BBB-002", "CCC-003")


def ledger_text(history: dict[str, list[str]]) -> str:
    parts = ["# Fix Plan Ledger\n"]
    for item in ITEMS:
        parts.append(f"\n## [{item}] Item {item}\n- Status: in_progress\n- Attempts History:\n")
        for number, label in enumerate(history[item], start=1):
            parts.append(f"  * [2026-01-01] Attempt #{number} — {label}.\n")
        parts.append("- Exit Criteria:\n  - green\n")
    return "".join(parts)


appends = st.lists(st.tuples(st.sampled_from(ITEMS), st.integers(0, 10**6)), max_size=6)


@settings(max_examples=150, deadline=None)
@given(base_counts=st.tuples(*(st.integers(0, 3) for _ in ITEMS)), ours=appends, theirs=appends)
def test_concurrent_appends_always_merge(base_counts, ours, theirs):
    base_history = {item: [f"base {item} {i}" for i in range(n)] for item, n in zip(ITEMS, base_counts)}

    def side(name, new):
        history = {item: list(labels) for item, labels in base_history.items()}
        for item, token in new:
            history[item].append(f"{name} {item} {token}")
        return history

    ours_history, theirs_history = side("ours", ours), side("theirs", theirs)
    result = merge_texts(ledger_text(base_history), ledger_text(ours_history), ledger_text(theirs_history), is_ledger=True)
    assert result.clean, result.text
    doc = parse_ledger(SourceText(None, result.text, ""))
    for item in ITEMS:
        attempts = doc.items[item].attempts
        labels = [re.sub(r"^.*— |\.$", "", a.text) for a in attempts]
        # Base, then ours, then theirs: nothing lost, nothing duplicated.
        expected = ours_history[item] + theirs_history[item][len(base_history[item]):]
        assert labels == expected
        # Base and ours keep their numbers; the incoming ones follow.
        assert [a.number for a in attempts] == list(range(1, len(expected) + 1))


PLAN_ROWS = 4


def plan_text(states: list[str], notes: list[str]) -> str:
    rows = "".join(f"| A{i} | Task {i} | {states[i]} | Run `pytest t.py::t{i}`.{notes[i]} |\n" for i in range(PLAN_ROWS))
    return "### Phase A — Work\n| ID | Task Description | State | How/Why & Guidance |\n| --- | --- | --- | --- |\n" + rows


flips = st.dictionaries(st.integers(0, PLAN_ROWS - 1), st.sampled_from(["[x]", "[P]", "[ ]"]), max_size=PLAN_ROWS)


@settings(max_examples=150, deadline=None)
@given(ours=flips, theirs=flips)
def test_concurrent_row_flips_always_merge(ours, theirs):
    base_states, base_notes = ["[ ]"] * PLAN_ROWS, [""] * PLAN_ROWS

    def side(name, changes):
        states, notes = list(base_states), list(base_notes)
        for index, token in changes.items():
            states[index] = token
            notes[index] = f" {name} set {token}"
        return plan_text(states, notes)

    result = merge_texts(plan_text(base_states, base_notes), side("ours", ours), side("theirs", theirs))
    assert result.clean, result.text
    rows = parse_plan(SourceText(None, result.text, "")).rows
    assert len(rows) == PLAN_ROWS
    rank = {"[P]": 3, "[ ]": 2, "[x]": 1}
    for index, row in enumerate(rows):
        # Setting the base token again changes only the note, not the state.
        wanted = [t for t in (ours.get(index), theirs.get(index)) if t not in (None, "[ ]")]
        expected = max(wanted, key=lambda t: rank[t]) if wanted else "[ ]"
        if len(wanted) == 2 and rank[wanted[0]] == rank[wanted[1]]:
            expected = wanted[0]
        assert row.state_token == expected
        if index in ours:
            assert f"ours set {ours[index]}" in row.guidance
        if index in theirs and theirs.get(index) != ours.get(index):
            assert f"theirs set {theirs[index]}" in row.guidance
