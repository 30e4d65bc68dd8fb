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
