"""Splitting a table row is linear in its length (issue 11: one 1.1 MB row made `status`
take 128 s, because every unclosed backtick run searched the rest of the row char by char).

Work is counted as Python line events inside ledger/markdown/table.py (deterministic, unlike
wall time on a shared machine); the old splitter is kept here as the reference it must match.
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings, strategies as st

import ledger.markdown.table as table
from ledger.markdown.table import split_cells


def reference_scan(line: str) -> tuple[list[int], bool]:
    """The splitter before issue 11, character by character: the semantics to keep."""
    def run_at(i: int) -> int:
        j = i
        while j < len(line) and line[j] == "`":
            j += 1
        return j - i

    positions, unpaired, i = [], False, 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            run = run_at(i)
            close = line.find("`" * run, i + run)
            while close != -1 and run_at(close) != run:
                close = line.find("`" * run, close + run_at(close))
            if close != -1:
                i = close + run
                continue
            unpaired = True
            i += run
            continue
        if ch == "|":
            positions.append(i)
        i += 1
    return positions, unpaired


def count_work(func, *args) -> int:
    """Python line events executed in the table module while `func(*args)` runs."""
    events = 0
    module_file = table.__file__

    def tracer(frame, event, arg):
        nonlocal events
        if frame.f_code.co_filename != module_file:
            return None
        events += 1
        return tracer

    sys.settrace(tracer)
    try:
        func(*args)
    finally:
        sys.settrace(None)
    return events


def hostile_row(size: int) -> str:
    """Pipes inside and outside code spans, escapes and text, then backtick runs of rising
    lengths (none closes: each opening run used to scan all the longer ones after it)."""
    chunk = "`a|b` \\| word | "
    parts, length, total = [chunk * (size // 2 // len(chunk))], 1, 0
    while total < size // 2:
        parts.append("`" * length + " x ")
        total += length + 3
        length += 1
    return "| A1 | " + "".join(parts) + " | [ ] | g |"


@pytest.mark.slow
def test_a_megabyte_row_splits_with_work_linear_in_its_length():
    small, large = hostile_row(100_000), hostile_row(1_000_000)
    assert 0.9e6 < len(large) < 1.1e6
    small_work = count_work(split_cells, small)
    large_work = count_work(split_cells, large)
    # Ten times the text: about ten times the work (the old splitter did ~30x more, and
    # millions of steps per rising run; linear with generous slack is < 15x).
    assert large_work < 15 * small_work, (small_work, large_work)
    # And bounded in absolute terms: a few steps per pipe, escape and backtick run.
    specials = large.count("|") + large.count("\\") + len([r for r in large.split(" ") if r.startswith("`")])
    assert large_work < 20 * specials, (large_work, specials)
    cells = split_cells(large)
    assert cells[0].text == "A1" and cells[-1].text == "g" and cells[-2].text == "[ ]"


def test_the_hostile_row_splits_as_the_reference_splitter_does():
    row = hostile_row(20_000)
    assert table._scan(row) == reference_scan(row)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`|\\ ab")), max_size=60))
def test_scan_matches_the_reference_on_any_text(text):
    line = "| " + text
    assert table._scan(line) == reference_scan(line)


def _fastest_parse_seconds(text: str, repeat: int = 3) -> float:
    import time
    from pathlib import Path

    from ledger.markdown.text import SourceText
    from ledger.documents.plan import parse_plan

    best = float("inf")
    for _ in range(repeat):
        # CPU time, not wall time: on a loaded machine the wall clock measures the others.
        start = time.process_time()
        plan = parse_plan(SourceText(Path("p.md"), text, ""))
        best = min(best, time.process_time() - start)
    assert [row.id for row in plan.rows] == ["A1", "A2"]
    return best


def plan_with_row(size: int) -> str:
    """A table whose A1 row holds the hostile cell and a cell that is one long run of
    backticks and spaces between two words (what a trailing-marks regex retries on)."""
    header = "# X — y\n\n### Phase A — Base\n| ID | Task Description | State | How/Why & Guidance |\n| --- | --- | --- | --- |\n"
    marks = "x " + "` " * (size // 4) + "y"
    return header + hostile_row(size // 2).replace("| [ ] | g |", f"| [ ] | {marks} |") + "\n| A2 | next | [x] | ok |\n"


@pytest.mark.slow
def test_parsing_a_plan_with_a_megabyte_row_scales_linearly():
    """The whole plan parse (header detection, ids), not only the splitter: a regex that
    trimmed a cell's marks from the right retried at every character of a long backtick run.
    Regex work is invisible to line counting, so this compares the fastest of three CPU timings
    of 100 KB and 1 MB: linear is about 10x, the quadratic trim was over 100x."""
    small = _fastest_parse_seconds(plan_with_row(100_000))
    large = _fastest_parse_seconds(plan_with_row(1_000_000))
    assert large < 40 * small + 0.5, (small, large)
