"""The three-way merge of ledger and plan files, without git."""

import textwrap

from ledger.editing.merge import merge_texts

LEDGER = textwrap.dedent(
    """\
    # Fix Plan Ledger

    ## [DEMO-001] Demo
    - Status: in_progress
    - Attempts History:
      * [2026-11-01] Attempt #1 — Phase A.A1: first.
      * [2026-11-02] Attempt #2 — Phase A.A2: second.
    - Exit Criteria:
      - all green

    ## [OTHER-002] Other
    - Attempts History:
      * [2026-11-01] Attempt #1 — setup.
    """
)


def append_after(text: str, anchor: str, *lines: str) -> str:
    return text.replace(anchor + "\n", anchor + "\n" + "".join(line + "\n" for line in lines), 1)


def test_concurrent_appends_to_one_item_renumber_only_theirs():
    ours = append_after(LEDGER, "  * [2026-11-02] Attempt #2 — Phase A.A2: second.", "  * [2026-11-03] Attempt #3 — ours A3.")
    theirs = append_after(
        LEDGER, "  * [2026-11-02] Attempt #2 — Phase A.A2: second.",
        "  * [2026-11-03] Attempt #3 — theirs A4.", "    continuation of theirs", "  * [2026-11-03] Attempt #4 — theirs A5.",
    )
    result = merge_texts(LEDGER, ours, theirs, is_ledger=True)
    assert result.clean
    assert "<<<<<<<" not in result.text
    assert (
        "  * [2026-11-02] Attempt #2 — Phase A.A2: second.\n"
        "  * [2026-11-03] Attempt #3 — ours A3.\n"
        "  * [2026-11-03] Attempt #4 (renumbered from #3 at merge) — theirs A4.\n"
        "    continuation of theirs\n"
        "  * [2026-11-03] Attempt #5 (renumbered from #4 at merge) — theirs A5.\n"
        "- Exit Criteria:\n"
    ) in result.text
    assert any("renumbered" in note for note in result.notes)


def test_appends_to_different_items_keep_their_numbers():
    ours = append_after(LEDGER, "  * [2026-11-02] Attempt #2 — Phase A.A2: second.", "  * [2026-11-03] Attempt #3 — ours.")
    theirs = append_after(LEDGER, "  * [2026-11-01] Attempt #1 — setup.", "  * [2026-11-03] Attempt #2 — theirs.")
    result = merge_texts(LEDGER, ours, theirs, is_ledger=True)
    assert result.clean and not result.notes
    assert "Attempt #3 — ours." in result.text and "Attempt #2 — theirs." in result.text


def test_both_create_the_same_new_item():
    item = "\n## [NEW-003] New\n- Attempts History:\n"
    ours = LEDGER + item + "  * [2026-11-03] Attempt #1 — ours.\n"
    theirs = LEDGER + item + "  * [2026-11-03] Attempt #1 — theirs.\n"
    result = merge_texts(LEDGER, ours, theirs, is_ledger=True)
    assert result.clean
    assert result.text == LEDGER + item + "  * [2026-11-03] Attempt #1 — ours.\n  * [2026-11-03] Attempt #2 (renumbered from #1 at merge) — theirs.\n"


GLOBAL = textwrap.dedent(
    """\
    # Fix Plan

    ## Attempts History

    ### 2026-01-22T02:40Z — DEMO-001 A1 (passed, attempt #1)
    **Action:** ran.

    ## TODOs
    - none
    """
)


def test_global_layout_entries_concatenate_and_renumber():
    def entry(stamp, who):
        return f"\n### {stamp} — DEMO-001 A2 (passed, attempt #2)\n**Action:** {who}.\n"

    anchor = "**Action:** ran.\n"
    ours = GLOBAL.replace(anchor, anchor + entry("2026-01-23T00:00Z", "ours"))
    theirs = GLOBAL.replace(anchor, anchor + entry("2026-01-23T00:01Z", "theirs"))
    result = merge_texts(GLOBAL, ours, theirs, is_ledger=True)
    assert result.clean
    assert (
        "**Action:** ran.\n\n### 2026-01-23T00:00Z — DEMO-001 A2 (passed, attempt #2)\n**Action:** ours.\n"
        "\n### 2026-01-23T00:01Z — DEMO-001 A2 (passed, attempt #3, renumbered from #2 at merge)\n**Action:** theirs.\n\n## TODOs\n"
    ) in result.text


PLAN = textwrap.dedent(
    """\
    ### Phase A — Baseline
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | A1 | First | [ ] | Run `pytest t.py::a`. |
    | A2 | Second | [ ] | Run `pytest t.py::b`. |
    - [ ] C1: checklist `pytest t.py::c`.
    """
)


def test_state_flips_of_adjacent_rows_both_apply():
    ours = PLAN.replace("| A1 | First | [ ] | Run `pytest t.py::a`. |", "| A1 | First | [x] | Run `pytest t.py::a`. ✅ ours |")
    theirs = PLAN.replace("| A2 | Second | [ ] | Run `pytest t.py::b`. |", "| A2 | Second | [P] | Run `pytest t.py::b`. ⚠️ theirs |")
    result = merge_texts(PLAN, ours, theirs)
    assert result.clean
    assert "| A1 | First | [x] | Run `pytest t.py::a`. ✅ ours |\n| A2 | Second | [P] | Run `pytest t.py::b`. ⚠️ theirs |" in result.text


def test_same_row_flipped_on_both_sides_keeps_both_notes_and_attention_state():
    ours = PLAN.replace("| A1 | First | [ ] | Run `pytest t.py::a`. |", "| A1 | First | [x] | Run `pytest t.py::a`. ✅ passed |")
    theirs = PLAN.replace("| A1 | First | [ ] | Run `pytest t.py::a`. |", "| A1 | First | [P] | Run `pytest t.py::a`. ⚠️ failed |")
    result = merge_texts(PLAN, ours, theirs)
    assert result.clean
    assert "| A1 | First | [P] | Run `pytest t.py::a`. ✅ passed ⚠️ failed |\n" in result.text
    both_done = merge_texts(PLAN, ours, ours.replace("✅ passed", "✅ passed too"))
    assert both_done.clean and "| A1 | First | [x] | Run `pytest t.py::a`. ✅ passed too |" in both_done.text


def test_checklist_item_flipped_on_both_sides():
    ours = PLAN.replace("- [ ] C1: checklist `pytest t.py::c`.", "- [x] C1: checklist `pytest t.py::c`. ok")
    theirs = PLAN.replace("- [ ] C1: checklist `pytest t.py::c`.", "- [x] C1: checklist `pytest t.py::c`. also")
    result = merge_texts(PLAN, ours, theirs)
    assert result.clean and "- [x] C1: checklist `pytest t.py::c`. ok also\n" in result.text


def test_real_conflict_gets_markers():
    ours = PLAN.replace("| A1 | First |", "| A1 | Ours rewrote |")
    theirs = PLAN.replace("| A1 | First |", "| A1 | Theirs rewrote |")
    result = merge_texts(PLAN, ours, theirs)
    assert result.conflicts == 1
    assert "<<<<<<< ours\n| A1 | Ours rewrote |" in result.text and "=======\n| A1 | Theirs rewrote |" in result.text
    assert result.text.count(">>>>>>> theirs\n") == 1


def test_crlf_and_missing_final_newline_survive():
    base = LEDGER.replace("\n", "\r\n").rstrip("\r\n")
    ours = base + "\r\n  * [2026-11-03] Attempt #2 — ours."
    theirs = base + "\r\n  * [2026-11-03] Attempt #2 — theirs."
    result = merge_texts(base, ours, theirs, is_ledger=True)
    assert result.clean
    assert result.text.endswith("setup.\r\n  * [2026-11-03] Attempt #2 — ours.\n  * [2026-11-03] Attempt #3 (renumbered from #2 at merge) — theirs.")


def test_one_sided_changes_pass_through():
    ours = PLAN.replace("[ ] | Run `pytest t.py::a`.", "[x] | Run `pytest t.py::a`.")
    assert merge_texts(PLAN, ours, PLAN).text == ours
    assert merge_texts(PLAN, PLAN, ours).text == ours
    assert merge_texts(PLAN, ours, ours).text == ours


def test_attempt_for_the_last_item_stays_in_it_when_the_other_side_adds_an_item():
    ours = LEDGER + "\n## [NEW-003] New\n- Attempts History:\n  * [2026-11-03] Attempt #1 — ours.\n"
    theirs = LEDGER + "  * [2026-11-03] Attempt #2 — theirs on OTHER.\n"
    for first, second in ((ours, theirs), (theirs, ours)):
        result = merge_texts(LEDGER, first, second, is_ledger=True)
        assert result.clean
        assert result.text == LEDGER + "  * [2026-11-03] Attempt #2 — theirs on OTHER.\n" + (
            "\n## [NEW-003] New\n- Attempts History:\n  * [2026-11-03] Attempt #1 — ours.\n"
        )


def test_both_sides_replacing_the_run_note_keep_both_new_notes():
    note = "{mark} 2026-11-25 — {what}. Artifacts: reports/2026-11-25T{ts}Z/phase_a/"
    row = "| A1 | Task | {state} | Run it. {note} |\n"
    base = row.format(state="[x]", note=note.format(mark="✅", what="1 passed", ts="100000"))
    ours = row.format(state="[x]", note=note.format(mark="✅", what="1 passed", ts="110000"))
    theirs = row.format(state="[P]", note=note.format(mark="⚠️", what="FAILED: 1 failed", ts="110001"))
    merged = merge_texts(base, ours, theirs)
    assert merged.conflicts == 0
    assert merged.text == (
        "| A1 | Task | [P] | Run it. ✅ 2026-11-25 — 1 passed. Artifacts: reports/2026-11-25T110000Z/phase_a/ "
        "⚠️ 2026-11-25 — FAILED: 1 failed. Artifacts: reports/2026-11-25T110001Z/phase_a/ |\n"
    )


def test_both_sides_rewriting_prose_before_a_run_note_is_still_a_conflict():
    note = " ✅ 2026-11-25 — 1 passed. Artifacts: reports/2026-11-25T{ts}Z/phase_a/ |\n"
    base = "| A1 | Task | [x] | Run it." + note.format(ts="100000")
    ours = "| A1 | Task | [x] | Run it now." + note.format(ts="110000")
    theirs = "| A1 | Task | [x] | Run it later." + note.format(ts="110001")
    assert merge_texts(base, ours, theirs).conflicts == 1


def test_keep_theirs_puts_the_published_entries_first_and_renumbers_ours():
    anchor = "  * [2026-11-02] Attempt #2 — Phase A.A2: second."
    ours = append_after(LEDGER, anchor, "  * [2026-11-03] Attempt #3 — local.")
    theirs = append_after(LEDGER, anchor, "  * [2026-11-03] Attempt #3 — published.")
    result = merge_texts(LEDGER, ours, theirs, is_ledger=True, keep="theirs")
    assert result.clean
    assert (
        anchor + "\n  * [2026-11-03] Attempt #3 — published.\n"
        "  * [2026-11-03] Attempt #4 (renumbered from #3 at merge) — local.\n"
    ) in result.text


def test_entries_with_one_heading_and_different_bodies_are_both_kept_whole():
    """Same-minute headings from an old template (no id): sharing the heading would fuse two
    attempts into one."""
    anchor = "**Action:** ran.\n"
    heading = "\n### 2026-01-23T00:00Z — DEMO-001 A2 (attempt #2)\n"
    ours = GLOBAL.replace(anchor, anchor + heading + "ours body.\n")
    theirs = GLOBAL.replace(anchor, anchor + heading + "theirs body.\n")
    result = merge_texts(GLOBAL, ours, theirs, is_ledger=True)
    assert result.clean
    assert result.text.count("### 2026-01-23T00:00Z — DEMO-001 A2") == 2
    assert (
        "### 2026-01-23T00:00Z — DEMO-001 A2 (attempt #2)\nours body.\n\n"
        "### 2026-01-23T00:00Z — DEMO-001 A2 (attempt #3, renumbered from #2 at merge)\ntheirs body.\n"
    ) in result.text


def test_a_number_above_the_other_sides_is_not_renumbered():
    anchor = "  * [2026-11-02] Attempt #2 — Phase A.A2: second."
    ours = append_after(LEDGER, anchor, "  * [2026-11-03] Attempt #3 — ours.")
    theirs = append_after(LEDGER, anchor, "  * [2026-11-03] Attempt #82 — pre-assigned.")
    result = merge_texts(LEDGER, ours, theirs, is_ledger=True)
    assert result.clean and not result.notes and "Attempt #82 — pre-assigned." in result.text


def test_git_operation_reads_the_rebase_state_and_the_reflog_action(tmp_path):
    from ledger.editing.merge import MERGE, REBASE, git_operation
    from tests.conftest import git

    git(tmp_path, "init", "-q")
    assert git_operation({"GIT_REFLOG_ACTION": "merge origin/main"}, tmp_path) == MERGE
    assert git_operation({"GIT_REFLOG_ACTION": "pull --no-rebase origin main"}, tmp_path) == MERGE
    assert git_operation({"GIT_REFLOG_ACTION": "pull --rebase --autostash"}, tmp_path) == REBASE
    assert git_operation({}, tmp_path) == REBASE  # stash apply, cherry-pick: %A is HEAD
    (tmp_path / ".git" / "rebase-merge").mkdir()
    assert git_operation({"GIT_REFLOG_ACTION": "merge x"}, tmp_path) == REBASE


def test_byte_identical_entries_from_both_sides_are_two_attempts():
    """Two machines' same-day `attempt add` with one summary write the same line; fusing
    them would lose an attempt."""
    anchor = "  * [2026-11-02] Attempt #2 — Phase A.A2: second."
    entry = "  * [2026-11-03] Attempt #3 — Supervisor review: D1 accepted."
    both = append_after(LEDGER, anchor, entry)
    for keep in ("ours", "theirs"):
        result = merge_texts(LEDGER, both, both, is_ledger=True, keep=keep)
        assert result.clean
        assert (
            anchor + "\n" + entry + "\n"
            "  * [2026-11-03] Attempt #4 (renumbered from #3 at merge) — Supervisor review: D1 accepted.\n"
            "- Exit Criteria:\n"
        ) in result.text
        assert any("renumbered" in note for note in result.notes)


def test_the_same_new_item_with_identical_entries_keeps_one_heading_and_both_entries():
    addition = "\n## [NEW-003] New\n- Attempts History:\n  * [2026-11-03] Attempt #1 — same text.\n"
    result = merge_texts(LEDGER, LEDGER + addition, LEDGER + addition, is_ledger=True)
    assert result.clean
    assert result.text.count("## [NEW-003] New") == 1
    assert result.text.endswith(
        "- Attempts History:\n  * [2026-11-03] Attempt #1 — same text.\n"
        "  * [2026-11-03] Attempt #2 (renumbered from #1 at merge) — same text.\n"
    )


def test_identical_plan_edits_on_both_sides_are_taken_once():
    plan = "| ID | Task | State | Guidance |\n| --- | --- | --- | --- |\n| A1 | x | [ ] | g |\n"
    edited = plan + "| A2 | y | [ ] | h |\n"
    assert merge_texts(plan, edited, edited).text == edited
