"""mentions_row's fast path (no `<file>.md:` in the text) gives the answer of the full pattern."""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.reading.show import mentions_row


@dataclass
class _Row:
    id: str
    path: PurePosixPath
    has_id: bool = True
    ref: str = ""


def _reference(text: str, row: _Row) -> bool:
    """mentions_row as it was before the fast path: the prefix group tried everywhere."""
    if row.id not in text:
        return False
    pattern = r"(?:([\w.-]+\.md):)?(?<![A-Za-z0-9])" + re.escape(row.id) + r"(?![A-Za-z0-9])"
    return any(m.group(1) in (None, row.path.name) for m in re.finditer(pattern, text))


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["A1", "0.A", "D.D1", "TEST-X.D1", "a-1"]),
    st.lists(st.sampled_from(["A1", "A10", "0.A", "D.D1", "D1", "x", "Phase ", " ", ".", "-", ":", "phase_2_checklist.md:",
                              "implementation.md:", "plan.md", ".md", "`", "\n", "é", "TEST-X."]), max_size=12),
)
def test_mentions_row_agrees_with_the_full_pattern(row_id, pieces):
    text = "".join(pieces)
    for name in ("implementation.md", "phase_2_checklist.md"):
        row = _Row(row_id, PurePosixPath("plans/active/X") / name)
        assert mentions_row(text, row) == _reference(text, row), (text, row)


@dataclass
class _Phase:
    key: str


@dataclass
class _Twin:
    id: str
    path: PurePosixPath
    phase: _Phase
    ref: str
    has_id: bool = True


def test_a_row_named_by_its_phase_is_not_named_by_a_mention_of_its_twin():
    plan = PurePosixPath("plans/active/GOLD-001/implementation.md")
    first, second = (_Twin("C1", plan, _Phase(key), f"{key}.C1") for key in ("A", "B"))
    cases = {
        "### 2026-12-01T19:06Z — GOLD-001.B.C1 (passed, attempt #3)": (False, True),
        "Worked on Phase A.C1 today.": (True, False),
        "A.C1 and B.C1 both": (True, True),
        "C1 only (which one?)": (True, True),  # a bare id names both twins
        "GOLD-001.C1 (the old ambiguous heading)": (True, True),
        "implementation.md:B.C1": (False, True),
        "other_plan.md:C1": (False, False),
        "FOO-A.C1, a hyphenated name, not phase A": (True, True),
    }
    for text, expected in cases.items():
        assert (mentions_row(text, first), mentions_row(text, second)) == expected, text


def test_a_unique_id_is_named_whatever_precedes_it():
    row = _Twin("C1", PurePosixPath("plans/active/X/implementation.md"), _Phase("C"), "C1")
    for text in ("A.C1", "Phase B.C1", "X.C1", "C1"):
        assert mentions_row(text, row), text
