"""The global `## Attempts History` read whole: entries the loop appended past a later
`## TODOs` heading, the heading style of new entries, time order, archived attempts.

The layout is the one of the real ledger `dose_experiments-37f759f/docs/fix_plan.md` in
../shared/corpus/workspaces (a loop appending at the end of the file)."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from ledger.config import load_config
from ledger.markdown.splice import apply_splices
from ledger.errors import BadInput
from ledger.documents.fix_plan import LedgerLayout, append_attempt, next_number_with_archives, parse_ledger, time_key
from ledger.markdown.text import SourceText

LATE_ENTRIES = """# Fix Plan

## Attempts History

### 2026-01-22T02:40Z — seed S1–S2 (initial)
**Action:** did.

### 2026-01-23T04:09Z — DEBUG-001.F1 (timeline shipped)
**Action:** shipped.

#### Details
- still this entry

### 2026-01-23T02:19Z — DEBUG-001.F1 (scoped)
**Next Actions:**
- F1 remains open

## TODOs
- [ ] DEBUG-001.F1: await the maintainer.

### 2026-01-23T08:35Z — DEBUG-001.F1 (history persistence)
**Action:** extended.

### 2026-01-23T07:05Z — DEBUG-001.F1 (summary shipped)
**Action:** summarised.
"""


def ledger_of(text: str):
    return parse_ledger(SourceText(Path("fix_plan.md"), text, "0"))


def test_entries_after_a_later_section_heading_are_read():
    doc = ledger_of(LATE_ENTRIES)
    assert doc.layout == LedgerLayout.GLOBAL
    assert [(a.initiative, a.label) for a in doc.history.entries] == [
        ("seed", "initial"),
        ("DEBUG-001", "timeline shipped"),
        ("DEBUG-001", "scoped"),
        ("DEBUG-001", "history persistence"),
        ("DEBUG-001", "summary shipped"),
    ]
    assert len(doc.attempts_for("DEBUG-001")) == 4


def test_an_entry_keeps_its_sub_headings_and_stops_before_the_next_section():
    doc = ledger_of(LATE_ENTRIES)
    shipped, scoped = doc.history.entries[1:3]
    assert "- still this entry" in shipped.text
    assert scoped.text.endswith("- F1 remains open")
    assert "## TODOs" not in scoped.text


def test_a_new_entry_goes_after_the_files_last_entry():
    doc = ledger_of(LATE_ENTRIES)
    new = apply_splices(LATE_ENTRIES, [append_attempt(doc, "DEBUG-001", ["### 2026-01-24T00:00Z — DEBUG-001.F1 (x)", "body"])])
    assert new == LATE_ENTRIES + "\n### 2026-01-24T00:00Z — DEBUG-001.F1 (x)\nbody\n"
    after = ledger_of(new)
    assert after.history.entries[-1].label == "x" and len(after.history.entries) == 6


def test_a_new_entry_goes_before_a_section_that_follows_the_last_entry():
    text = LATE_ENTRIES + "\n## Notes\nfree text\n"
    doc = ledger_of(text)
    new = apply_splices(text, [append_attempt(doc, "DEBUG-001", ["### 2026-01-24T00:00Z — DEBUG-001.F1 (x)"])])
    assert new == LATE_ENTRIES + "\n### 2026-01-24T00:00Z — DEBUG-001.F1 (x)\n\n## Notes\nfree text\n"


def test_timeline_is_in_time_order_and_ties_keep_file_order():
    doc = ledger_of(LATE_ENTRIES)
    assert [a.label for a in doc.timeline_for("DEBUG-001")] == [
        "scoped", "timeline shipped", "summary shipped", "history persistence",
    ]


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("2026-01-23", "2026-01-23T00:00Z"),
        ("2026-01-23T02:19Z", "2026-01-23T04:09Z"),
        ("2026-01-23T021900Z", "2026-01-23T02:20Z"),
        ("2025-12-31T23:59:59Z", "2026-01-01"),
    ],
)
def test_time_key_orders_the_styles_real_ledgers_mix(earlier, later):
    assert time_key(earlier) < time_key(later)


def test_entry_style_follows_the_files_majority():
    doc = ledger_of(LATE_ENTRIES)
    style = doc.entry_style()
    # Four `ID.ROW` entries against one `seed S1–S2`; every time written `…T04:09Z`.
    assert (style.when_format, style.row_separator) == ("%Y-%m-%dT%H:%MZ", ".")
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    assert style.context(when) == {"entry_when": "2026-02-03T04:05Z", "row_separator": "."}


def test_entry_style_of_a_file_writing_seconds_and_spaces():
    text = "## Attempts History\n\n### 2026-01-01T10:00:00Z — A-1 A1 (x)\n\n### 2026-01-02T10:00:00Z — A-1 B2 (y)\n"
    style = ledger_of(text).entry_style()
    assert (style.when_format, style.row_separator) == ("%Y-%m-%dT%H:%M:%SZ", " ")


def test_entry_style_of_an_empty_history_is_the_loops_own():
    style = ledger_of("# Fix Plan\n\n## Attempts History\n").entry_style()
    assert (style.when_format, style.row_separator) == ("%Y-%m-%dT%H:%MZ", ".")


def test_numbering_continues_across_archives():
    items = ledger_of("## [A-1] T\n- Attempts History:\n  * [2026-01-05] Attempt #12 — x\n")
    archive = ledger_of("## [A-1] T\n- Attempts History:\n  * [2026-01-01] Attempt #11 — old\n  * [2026-01-02] Attempt #40 — old\n")
    assert items.next_attempt_number("A-1") == 13
    assert next_number_with_archives(items, "A-1", [archive]) == 41
    assert next_number_with_archives(items, "B-2", [archive]) == 1

    history = ledger_of(LATE_ENTRIES)
    archived_history = ledger_of("## Attempts History\n\n### 2025-12-01T00:00Z — DEBUG-001.A1 (old)\n\n"
                                 "### 2025-12-02T00:00Z — DEBUG-001.A2 (old)\n")
    assert next_number_with_archives(history, "DEBUG-001", [archived_history]) == 4 + 2 + 1


def test_ledger_archives_setting(tmp_path):
    assert load_config(tmp_path).ledger_archives == ("docs/fix_plan_archive.md", "docs/archive/*fix_plan_archive*.md")
    (tmp_path / "ledger.toml").write_text('ledger_archives = ["old/*.md"]\n')
    assert load_config(tmp_path).ledger_archives == ("old/*.md",)
    (tmp_path / "ledger.toml").write_text("ledger_archives = [1]\n")
    with pytest.raises(BadInput, match="ledger_archives"):
        load_config(tmp_path)
