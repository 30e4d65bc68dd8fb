"""Malformed and hostile Markdown through the real CLI: a correct result or one clear
error line (no traceback), and files byte-identical unless the command was meant to
change them."""

from __future__ import annotations

import json
import re
import resource

import pytest

from tests.reliability.helpers import (
    HEADER, LEDGER_FILE, PLAN_FILE, SEPARATOR, assert_clean_error, changed, cli, files, ledger, workspace,
)

OK = "`pytest tests/test_demo.py::test_ok -q`"


def only_line_changed(before: bytes, after: bytes) -> list[int]:
    """Indices of the lines that differ; the line count must not change."""
    old, new = before.split(b"\n"), after.split(b"\n")
    assert len(old) == len(new)
    return [i for i, (a, b) in enumerate(zip(old, new)) if a != b]


def status_rows(root, initiative="DEMO-001") -> dict[str, dict]:
    result = ledger(root, "status", initiative, "--json")
    assert result.returncode == 0, result.stderr
    (item,) = json.loads(result.stdout)["initiatives"]
    return {row["id"]: row for phase in item["phases"] for row in phase["rows"]}, item["diagnostics"]


# ------------------------------------------------------------------ malformed tables


def test_table_without_separator_row_is_read_and_edited_in_place(tmp_path):
    plan = HEADER + f"| A1 | one | [ ] | {OK} |\n| A2 | two | [ ] | g |\n"
    root = workspace(tmp_path, plan=plan)
    rows, _ = status_rows(root)
    assert {k: v["state"] for k, v in rows.items()} == {"A1": "open", "A2": "open"}
    result = ledger(root, "mark", "DEMO-001", "A2", "x")
    assert result.returncode == 0, result.stderr
    after = (root / PLAN_FILE).read_text()
    assert after == plan.replace("| A2 | two | [ ] | g |", "| A2 | two | [x] | g |")


def test_rows_without_trailing_pipe_get_their_note_at_the_end(tmp_path):
    plan = HEADER + SEPARATOR + "| A1 | one | [ ] | guidance without pipe\n| A2 | two | [ ] | g |\n"
    root = workspace(tmp_path, plan=plan)
    before = files(root)
    result = ledger(root, "mark", "DEMO-001", "A1", "done", "--note", "n | b")
    assert result.returncode == 0, result.stderr
    assert changed(before, files(root)) == {PLAN_FILE}
    lines = (root / PLAN_FILE).read_text().splitlines()
    assert re.fullmatch(r"\| A1 \| one \| \[x\] \| guidance without pipe \d{4}-\d{2}-\d{2} — marked \[x\]: n \\\| b", lines[5])
    assert lines[6] == "| A2 | two | [ ] | g |"
    rows, _ = status_rows(root)
    assert (rows["A1"]["state"], rows["A2"]["state"]) == ("done", "open")


def test_single_cell_divider_rows_are_sections_not_rows(tmp_path):
    plan = HEADER + SEPARATOR + "| **Setup** |\n| A1 | one | [ ] | g |\n| **Later** |\n| A2 | two | [ ] | g |\n"
    root = workspace(tmp_path, plan=plan)
    rows, diagnostics = status_rows(root)
    assert list(rows) == ["A1", "A2"] and diagnostics == []
    result = ledger(root, "mark", "DEMO-001", "A2", "P")
    assert result.returncode == 0, result.stderr
    assert (root / PLAN_FILE).read_text() == plan.replace("| A2 | two | [ ] |", "| A2 | two | [P] |")


def test_30kb_lines_parse_fast_and_stay_intact(tmp_path):
    long_description = "x`y|z " * 5000  # 30 KB of unpaired backticks and pipes
    long_guidance = "a``b\\|c " * 4000
    plan = HEADER + SEPARATOR + f"| A1 | {long_description} | [ ] | g |\n| A2 | two | [ ] | {long_guidance} |\n| A3 | three | [ ] | g |\n"
    assert max(len(line) for line in plan.splitlines()) > 30_000
    root = workspace(tmp_path, plan=plan)
    # CPU seconds of the three ledger processes: their wall time on a loaded machine measures
    # the load (start-up alone took seconds), their CPU time measures the long lines.
    started = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = ledger(root, "status", "DEMO-001")
    assert result.returncode == 0 and "A3" in result.stdout
    result = ledger(root, "mark", "DEMO-001", "A2", "x")
    assert result.returncode == 0, result.stderr
    result = ledger(root, "mark", "DEMO-001", "A3", "x")
    assert result.returncode == 0, result.stderr
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert (ended.ru_utime + ended.ru_stime) - (started.ru_utime + started.ru_stime) < 10
    after = (root / PLAN_FILE).read_bytes()
    assert only_line_changed(plan.encode(), after) == [6, 7]
    assert after.split(b"\n")[5] == plan.encode().split(b"\n")[5]


def test_br_tags_in_cells_are_kept_and_the_selector_still_found(tmp_path):
    plan = HEADER + SEPARATOR + f"| A1 | one<br>two | [ ] | line1<br/>{OK}<br>x |\n"
    root = workspace(tmp_path, plan=plan)
    result = ledger(root, "show", "DEMO-001", "A1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "pytest tests/test_demo.py::test_ok -q" in json.dumps(data)
    result = ledger(root, "mark", "DEMO-001", "A1", "x")
    assert result.returncode == 0
    assert (root / PLAN_FILE).read_text() == plan.replace("| [ ] |", "| [x] |")


# ------------------------------------------------------------------ unicode, diffs


def test_u2011_hyphens_in_row_ids_are_read_as_ascii_hyphens(tmp_path):
    plan = HEADER + SEPARATOR + "| A1 | non\u2011breaking | [ ] | multi\u2011GPU |\n| A\u20112 | two | [ ] | g |\n"
    root = workspace(tmp_path, plan=plan)
    rows, diagnostics = status_rows(root)
    assert list(rows) == ["A1", "A-2"] and diagnostics == []
    assert ledger(root, "mark", "DEMO-001", "A\u20112", "P").returncode == 0  # typed as written
    assert (root / PLAN_FILE).read_text() == plan.replace("| two | [ ]", "| two | [P]")
    assert ledger(root, "mark", "DEMO-001", "A-2", "x").returncode == 0  # typed with an ASCII hyphen
    # Only the state token changed; the U+2011 characters themselves are kept.
    assert (root / PLAN_FILE).read_text() == plan.replace("| two | [ ]", "| two | [x]")


def test_u2011_in_a_cli_initiative_id_is_a_clear_error(tmp_path):
    root = workspace(tmp_path)
    before = files(root)
    assert_clean_error(ledger(root, "do", "DEMO\u2011001", "A1"), 2, "invalid initiative id")
    assert files(root) == before


def test_u2011_ledger_item_gets_the_attempt_instead_of_a_duplicate_item(tmp_path):
    text = "# Fix Plan Ledger\n\n## [DEMO\u2011001] Demo\n- Attempts History:\n  * [2026-11-01] Attempt #3 — x\n"
    root = workspace(tmp_path, ledger_text=text)
    result = ledger(root, "attempt", "add", "DEMO-001", "--summary", "s", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["attempt"] == 4
    after = (root / LEDGER_FILE).read_text()
    assert after.startswith(text) and after.count("## [") == 1
    assert after[len(text):].startswith("  * [") and "Attempt #4 — s" in after


def test_stray_diff_prefixed_rows_are_flagged_and_do_not_hide_later_rows(tmp_path):
    plan = (
        "# DEMO-001 — Demo\n-## Context\n+## Context\n\n### Phase A — Base\n"
        "| ID | Task Description | State | How/Why & Guidance |\n" + SEPARATOR
        + "-| A1 | one | [ ] | g |\n+| A1 | one | [x] | g |\n| A2 | two | [ ] | g |\n"
    )
    root = workspace(tmp_path, plan=plan)
    rows, diagnostics = status_rows(root)
    assert list(rows) == ["A2"]
    assert [d for d in diagnostics if "stray diff prefix" in str(d)] and len(diagnostics) == 2
    assert ledger(root, "mark", "DEMO-001", "A2", "x").returncode == 0
    assert (root / PLAN_FILE).read_text() == plan.replace("| A2 | two | [ ] |", "| A2 | two | [x] |")
    before = files(root)
    assert_clean_error(ledger(root, "mark", "DEMO-001", "A1", "x"), 2, "unknown row 'A1'")
    assert files(root) == before


# ------------------------------------------------------------------ duplicate ids

DUPLICATES = (
    HEADER + SEPARATOR + f"| C1 | first | [ ] | {OK} |\n\n### Phase C — Checks\n"
    "| ID | Task Description | State | How/Why & Guidance |\n" + SEPARATOR
    + "| C1 | second | [ ] | `pytest tests/test_demo.py::test_bad -q` |\n"
)


@pytest.mark.parametrize("args", [("do", "DEMO-001", "C1"), ("mark", "DEMO-001", "C1", "x"), ("show", "DEMO-001", "C1"),
                                  ("attempt", "add", "DEMO-001", "--summary", "s", "--row", "C1")])
def test_duplicate_row_ids_name_both_places(tmp_path, args):
    root = workspace(tmp_path, plan=DUPLICATES)
    before = files(root)
    result = cli(root, *args)
    assert_clean_error(result, 2, f"name one as A.C1 ({PLAN_FILE}:6), C.C1 ({PLAN_FILE}:11)")
    assert files(root) == before


def test_a_phase_qualified_id_picks_one_duplicate(tmp_path):
    root = workspace(tmp_path, plan=DUPLICATES)
    assert ledger(root, "mark", "DEMO-001", "C.C1", "x").returncode == 0
    assert (root / PLAN_FILE).read_text() == DUPLICATES.replace("| second | [ ]", "| second | [x]")
    result = ledger(root, "do", "DEMO-001", "A.C1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["row"], data["outcome"], data["state_after"]) == ("C1", "passed", "done")
    lines = (root / PLAN_FILE).read_text().splitlines()
    assert lines[5].startswith("| C1 | first | [x] |") and lines[10].startswith("| C1 | second | [x] | `pytest tests/test_demo.py::test_bad -q` |")


def test_duplicates_within_one_phase_ask_for_a_new_id(tmp_path):
    root = workspace(tmp_path, plan=HEADER + SEPARATOR + "| A1 | one | [ ] | g |\n| A1 | two | [ ] | g |\n")
    before = files(root)
    for reference in ("A1", "A.A1"):
        assert_clean_error(
            ledger(root, "mark", "DEMO-001", reference, "x"), 2,
            f"implementation.md#L6 ({PLAN_FILE}:6), implementation.md#L7 ({PLAN_FILE}:7)", "new id",
        )
    assert files(root) == before


# ------------------------------------------------------------------ unreadable files

BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
LATIN1 = "# Caf\xe9 plan\n".encode("latin-1")


@pytest.mark.parametrize("content, message", [(BINARY, "binary file"), (LATIN1, "not valid UTF-8 (byte 0xe9)")])
@pytest.mark.parametrize("args", [("status",), ("status", "--json"), ("show", "DEMO-001", "A1"), ("mark", "DEMO-001", "A1", "x"),
                                  ("do", "DEMO-001", "A1"), ("selectors",)])
def test_unreadable_plan_is_one_line_naming_the_file(tmp_path, content, message, args):
    root = workspace(tmp_path, plan=content)
    before = files(root)
    result = cli(root, *args)
    assert_clean_error(result, 2, PLAN_FILE, message)
    if "--json" in args:
        assert json.loads(result.stdout)["exit_code"] == 2
    assert files(root) == before


@pytest.mark.parametrize("content, message", [(BINARY, "binary file"), (LATIN1, "not valid UTF-8")])
@pytest.mark.parametrize("args", [("attempt", "add", "DEMO-001", "--summary", "s"), ("do", "DEMO-001", "A1"), ("do", "DEMO-001", "A1", "--dry-run")])
def test_unreadable_ledger_is_refused_before_anything_runs(tmp_path, content, message, args):
    root = workspace(tmp_path, ledger_text=content)
    before = files(root)
    result = cli(root, *args)
    assert_clean_error(result, 2, LEDGER_FILE, message)
    # `do` refuses up front: no test run, no evidence folder, no flipped row.
    assert files(root) == before
    assert "test_ok" not in result.stdout


def test_empty_plan_has_no_rows_and_unknown_row_is_an_error(tmp_path):
    root = workspace(tmp_path, plan=b"")
    rows, diagnostics = status_rows(root)
    assert rows == {} and diagnostics == []
    assert_clean_error(ledger(root, "mark", "DEMO-001", "A1", "x"), 2, "unknown row 'A1'", "rows: none")
    assert (root / PLAN_FILE).read_bytes() == b""


def test_empty_ledger_gets_a_new_item(tmp_path):
    root = workspace(tmp_path, ledger_text=b"")
    result = ledger(root, "attempt", "add", "DEMO-001", "--summary", "first", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["attempt"] == 1
    assert re.fullmatch(r"## \[DEMO-001\] .*\n- Attempts History:\n  \* \[\d{4}-\d{2}-\d{2}\] Attempt #1 — first\n",
                        (root / LEDGER_FILE).read_text())


def test_missing_ledger_item_is_created_and_other_items_untouched(tmp_path):
    text = "# Fix Plan Ledger\n\n## [OTHER-9] Other\n- Attempts History:\n  * [2026-11-01] Attempt #4 — x\n"
    root = workspace(tmp_path, ledger_text=text)
    for expected in (1, 2):
        result = ledger(root, "attempt", "add", "DEMO-001", "--summary", f"s{expected}", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["attempt"] == expected
    after = (root / LEDGER_FILE).read_text()
    assert after.startswith(text + "\n## [DEMO-001] ")
    assert after.count("## [DEMO-001]") == 1 and "Attempt #1 — s1\n  * [" in after and after.endswith("Attempt #2 — s2\n")


def test_missing_ledger_file_is_created(tmp_path):
    root = workspace(tmp_path)
    (root / LEDGER_FILE).unlink()
    result = ledger(root, "attempt", "add", "DEMO-001", "--summary", "s")
    assert result.returncode == 0, result.stderr
    assert (root / LEDGER_FILE).read_text().startswith("# Fix Plan Ledger\n\n## [DEMO-001] ")


# ------------------------------------------------------------------ CRLF


def test_crlf_files_stay_crlf_through_mark_attempt_and_do(tmp_path):
    root = workspace(tmp_path)
    for rel in (PLAN_FILE, LEDGER_FILE):
        (root / rel).write_bytes((root / rel).read_bytes().replace(b"\n", b"\r\n"))
    plan_before = (root / PLAN_FILE).read_bytes()
    ledger_before = (root / LEDGER_FILE).read_bytes()
    assert ledger(root, "mark", "DEMO-001", "A2", "P", "--note", "multi\nline | note").returncode == 0
    assert ledger(root, "mark", "DEMO-001", "C1", "x", "--note", "multi\r\nline").returncode == 0
    assert ledger(root, "attempt", "add", "DEMO-001", "--summary", "two\nlines", "--row", "A2").returncode == 0
    result = ledger(root, "do", "DEMO-001", "A1")
    assert result.returncode == 0, result.stderr
    for rel, before in ((PLAN_FILE, plan_before), (LEDGER_FILE, ledger_before)):
        after = (root / rel).read_bytes()
        assert re.search(rb"(?<!\r)\n", after) is None, rel  # no bare LF crept in
        assert re.search(rb"\r(?!\n)", after) is None, rel  # nor a bare CR
    plan_after = (root / PLAN_FILE).read_bytes()
    assert len(plan_after.split(b"\r\n")) == len(plan_before.split(b"\r\n"))
    ledger_after = (root / LEDGER_FILE).read_bytes()
    assert len(ledger_after.split(b"\r\n")) == len(ledger_before.split(b"\r\n")) + 2
    assert ledger_after.endswith(b"- Exit Criteria:\r\n  - all green\r\n")


@pytest.mark.parametrize("text", [
    "# Fix Plan Ledger\n\n```text\n## [DEMO-001] Demo\n- Attempts History:\n  * [2026-11-01] Attempt #1 — x\n",
    "# Ledger\n\n## Attempts History\n\n### 2026-01-01T10:00Z — DEMO-001 A1 (attempt #1)\n```\nunclosed\n",
])
@pytest.mark.parametrize("args", [("attempt", "add", "DEMO-001", "--summary", "s"), ("do", "DEMO-001", "A1")])
def test_a_ledger_that_would_swallow_the_attempt_is_refused_untouched(tmp_path, text, args):
    """An unclosed code fence hides whatever is appended after it: the attempt would be lost."""
    root = workspace(tmp_path, ledger_text=text)
    before = files(root)
    assert_clean_error(ledger(root, *args), 2, LEDGER_FILE, "would not read back", "nothing written")
    assert files(root) == before


def test_a_repeated_ledger_item_never_gets_a_reused_attempt_number(tmp_path):
    text = ("# Ledger\n\n## [DEMO-001] first\n- Attempts History:\n  * [2026-01-01] Attempt #1 — a\n\n"
            "## [DEMO-001] repeated\n- Attempts History:\n  * [2026-01-01] Attempt #5 — b\n")
    root = workspace(tmp_path, ledger_text=text)
    result = ledger(root, "attempt", "add", "DEMO-001", "--summary", "s", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["attempt"] == 6
    assert (root / LEDGER_FILE).read_text() == text.replace("Attempt #1 — a\n", "Attempt #1 — a\n" + re.search(
        r"  \* \[[\d-]+\] Attempt #6 — s\n", (root / LEDGER_FILE).read_text()).group())


def test_a_state_cell_without_a_token_is_a_clear_error(tmp_path):
    plan = HEADER + SEPARATOR + "| A1 | one | DONE | g |\n| A2 | two | ✅ | g |\n"
    root = workspace(tmp_path, plan=plan)
    _, diagnostics = status_rows(root)
    assert len(diagnostics) == 2 and all("unrecognised state" in str(d) for d in diagnostics)
    for row, line in (("A1", 6), ("A2", 7)):
        assert_clean_error(cli(root, "mark", "DEMO-001", row, "x"), 2, f"implementation.md:{line}", "no state token")
    assert (root / PLAN_FILE).read_text() == plan


def test_a_repeated_header_row_is_not_read_as_a_row(tmp_path):
    header = "| ID | Task Description | State | How/Why & Guidance |\n"
    root = workspace(tmp_path, plan=HEADER + SEPARATOR + "| A1 | one | [ ] | g |\n" + header + SEPARATOR + "| A2 | two | [x] | g |\n")
    rows, diagnostics = status_rows(root)
    assert {k: v["state"] for k, v in rows.items()} == {"A1": "open", "A2": "done"} and diagnostics == []
