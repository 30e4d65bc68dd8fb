"""A FIFO (or device) where a plan, the ledger, findings or input.md should be: every command
refuses it with one line and exit 2, without hanging and without taking the lock (issue 11:
13 of 18 commands hung, some holding the lock)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LEDGER_BIN
from tests.integration.workspace_factory import make_workspace
from tests.reliability.helpers import LEDGER_FILE, PLAN_FILE, assert_clean_error

FINDINGS_FILE = "docs/findings.md"

COMMANDS = [
    ("status",),
    ("show", "DEMO-001", "A1"),
    ("mark", "DEMO-001", "A1", "partial"),
    ("attempt", "add", "DEMO-001", "--summary", "s"),
    ("do", "DEMO-001", "A1"),
    ("do", "DEMO-001", "A1", "--dry-run"),
    ("audit",),
    ("brief", "DEMO-001", "A1"),
    ("check-input",),
    ("selectors",),
    ("findings",),
    ("next", "DEMO-001"),
    ("profile", "DEMO-001", "A1"),
    ("new", "NEW-001", "--title", "t"),
    ("html", "--out", "site"),
]


def run(root: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess:
    # The timeout is the test: a command that opens the FIFO for reading blocks forever.
    return subprocess.run([str(LEDGER_BIN), *args, "--root", str(root)], capture_output=True, text=True, timeout=60, cwd=root)


def with_fifo(tmp_path: Path, relative: str) -> Path:
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / "input.md").write_text("Summary: s\nMode: TDD\nFocus: DEMO-001 A1\n")
    target = root / relative
    target.unlink(missing_ok=True)
    os.mkfifo(target)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("relative", [PLAN_FILE, LEDGER_FILE, FINDINGS_FILE], ids=["plan", "ledger", "findings"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:2]))
def test_a_fifo_workspace_file_is_refused_by_every_command(tmp_path, relative, args):
    root = with_fifo(tmp_path, relative)
    result = run(root, args)
    assert_clean_error(result, 2, relative, "FIFO")
    # Refused before the lock: no lock file, no report folder, nothing written.
    assert not (root / ".ledger.lock").exists()
    assert not (root / "plans/active/DEMO-001/reports").exists()


@pytest.mark.slow
@pytest.mark.parametrize("args", [("check-input",), ("check-input", "input.md"), ("do", "--from-input", "input.md")], ids=["default", "path", "do"])
def test_a_fifo_input_md_is_refused(tmp_path, args):
    root = with_fifo(tmp_path, "input.md")
    result = run(root, args)
    if result.returncode == 2 and "no such option" in result.stderr.lower():
        pytest.fail(f"unexpected usage: {result.stderr}")
    assert_clean_error(result, 2, "input.md", "FIFO")
    assert not (root / "plans/active/DEMO-001/reports").exists()


def test_a_device_as_the_ledger_is_refused(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / LEDGER_FILE).unlink()
    (root / LEDGER_FILE).symlink_to("/dev/zero")  # reading it would never end
    result = run(root, ("attempt", "add", "DEMO-001", "--summary", "s"))
    assert_clean_error(result, 2, "device")
