"""`attempt add`, `show` and `brief` on a global-history ledger whose newest entries stand
after a `## TODOs` heading (as the real loop of dose_experiments-37f759f writes it), and on
a ledger whose older attempts were moved to an archive file."""

import json
import re

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.integration.workspace_factory import make_workspace

GLOBAL = """# Fix Plan

## Attempts History

### 2026-01-23T00:15Z — DEMO-001.A1 (first)
**Action:** started.

### 2026-01-23T04:09Z — DEMO-001.A2 (late in time, early in the file)
**Action:** second.

## TODOs
- [ ] DEMO-001.A2: keep going.

### 2026-01-23T02:35Z — DEMO-001.A2 (after the TODOs)
**Action:** third.
"""


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws", ledger=GLOBAL)


def run(ws, *args):
    return CliRunner().invoke(main, [*args, "--root", str(ws)], catch_exceptions=False)


def test_attempt_add_appends_after_the_last_entry_in_the_files_heading_style(ws):
    result = run(ws, "attempt", "add", "DEMO-001", "--row", "A2", "--summary", "Supervisor review.")
    assert result.exit_code == 0, result.output
    assert "attempt #4" in result.output
    text = (ws / "docs/fix_plan.md").read_text()
    assert text.startswith(GLOBAL)
    added = text[len(GLOBAL):]
    assert re.fullmatch(r"\n### \d{4}-\d\d-\d\dT\d\d:\d\dZ — DEMO-001\.A2 \(attempt #4, id [0-9a-f]{6}\)\nSupervisor review\.\n", added), added


def test_show_lists_every_entry_naming_the_row_in_time_order(ws):
    result = run(ws, "show", "DEMO-001", "A2", "--json")
    assert result.exit_code == 0, result.output
    attempts = json.loads(result.output)["attempts"]
    assert [a["date"] for a in attempts] == ["2026-01-23T02:35Z", "2026-01-23T04:09Z"]


def test_brief_last_attempts_include_the_entries_after_the_todos(ws, tmp_path):
    result = run(ws, "brief", "DEMO-001", "A2", "--json")
    assert result.exit_code == 0, result.output
    assert "after the TODOs" in result.output


def test_brief_names_an_entry_by_its_date_once(ws):
    """The entry's heading is `<ISO> — <ID>.<row> (label)`: the date stands once, before it."""
    result = run(ws, "brief", "DEMO-001", "A2")
    assert result.exit_code == 0, result.output
    assert "docs/fix_plan.md:14 — (2026-01-23T02:35Z): DEMO-001.A2 (after the TODOs)" in result.output
    assert result.output.count("2026-01-23T02:35Z") == 1


def test_numbering_continues_after_attempts_moved_to_an_archive(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws / "docs/archive").mkdir()
    (ws / "docs/archive/2026-01_fix_plan_archive.md").write_text(
        "# Archive\n\n## [DEMO-001] Demo initiative\n- Attempts History:\n"
        "  * [2026-10-01] Attempt #7 — archived.\n  * [2026-10-02] Attempt #8 — archived.\n"
    )
    result = run(ws, "attempt", "add", "DEMO-001", "--summary", "after the archive")
    assert result.exit_code == 0, result.output
    assert "attempt #9" in result.output
    assert "Attempt #9 — after the archive" in (ws / "docs/fix_plan.md").read_text()


def test_archives_are_configurable(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws / "ledger.toml").write_text('ledger_archives = ["old/*.md"]\n')
    (ws / "old").mkdir()
    (ws / "old/2025.md").write_text("## [DEMO-001] Demo\n- Attempts History:\n  * [2025-01-01] Attempt #20 — old.\n")
    result = run(ws, "attempt", "add", "DEMO-001", "--summary", "next")
    assert result.exit_code == 0, result.output
    assert "attempt #21" in result.output


def test_a_pre_assigned_number_an_archive_holds_is_refused(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws / "docs/fix_plan_archive.md").write_text("## [DEMO-001] Demo\n- Attempts History:\n  * [2025-01-01] Attempt #8 — old.\n")
    before = (ws / "docs/fix_plan.md").read_bytes()
    result = CliRunner().invoke(main, ["attempt", "add", "DEMO-001", "--summary", "x", "--number", "8", "--root", str(ws)])
    assert result.exit_code == 2
    assert "#8 of DEMO-001 already exists in the archive docs/fix_plan_archive.md:3" in result.output
    assert "next free number is #9" in result.output
    assert (ws / "docs/fix_plan.md").read_bytes() == before
