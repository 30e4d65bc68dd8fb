from pathlib import Path

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.fences import FenceTracker
from ledger.markdown.text import SourceText


def fenced(lines: list[str]) -> list[bool]:
    tracker = FenceTracker()
    return [tracker.in_fence(line) for line in lines]


def test_a_fence_closes_only_on_its_own_character_at_least_as_long():
    lines = ["````md", "```", "## not a heading", "~~~~", "````", "after"]
    assert fenced(lines) == [True, True, True, True, True, False]


def test_indented_four_spaces_is_not_a_fence():
    assert fenced(["    ```", "text"]) == [False, False]


def test_ledger_heading_inside_a_longer_fence_is_not_an_item():
    text = "# Ledger\n\n## [A-1] One\n- Attempts History:\n  * [2026-01-01] Attempt #1 — x\n\n````\n```\n## [B-2] Inside a fence\n```\n````\n"
    doc = parse_ledger(SourceText(Path("fix_plan.md"), text, "0"))
    assert list(doc.items) == ["A-1"]
