"""The lock covers planning and recording a run, not the run itself (issue 11: a second `do`
on another row, and a supervisor's `mark`, exited 4 after 10 s while a long test ran)."""

from __future__ import annotations

import json
import subprocess

import pytest

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from tests.conftest import LEDGER_BIN
from tests.integration.workspace_factory import make_workspace
from tests.reliability.helpers import LEDGER_FILE, PLAN_FILE, ledger

pytestmark = pytest.mark.slow

# Each test announces itself and waits for the other one (or for a release file): they can
# only both pass when their runs overlap. The wait inside the workspace's test is bounded so a
# serialised run fails instead of hanging.
BARRIER_TESTS = '''
import os, time
from pathlib import Path

def wait_for(name):
    deadline = time.monotonic() + 60
    while not Path(name).exists():
        assert time.monotonic() < deadline, f"{name} never appeared: the runs did not overlap"
        time.sleep(0.05)

def test_a():
    Path("a.ready").touch()
    wait_for("b.ready")

def test_b():
    Path("b.ready").touch()
    wait_for("a.ready")

def test_held():
    Path("held.started").touch()
    wait_for("held.release")
'''


def start_do(root, row: str, test: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(LEDGER_BIN), "do", "DEMO-001", row, "--selector", f"pytest tests/test_barrier.py::{test} -q", "--json", "--root", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
    )


def test_two_dos_on_different_rows_run_at_once_and_both_are_recorded(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / "tests/test_barrier.py").write_text(BARRIER_TESTS)
    first, second = start_do(root, "A1", "test_a"), start_do(root, "A2", "test_b")
    results = [proc.communicate(timeout=120) for proc in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    data = [json.loads(out) for out, _ in results]
    assert {d["row"] for d in data} == {"A1", "A2"} and all(d["outcome"] == "passed" for d in data)
    assert sorted(d["attempt"] for d in data) == [2, 3]  # distinct numbers
    rows = {r.id: r for r in parse_plan(SourceText.read(root / PLAN_FILE)).rows}
    assert rows["A1"].state_token == "[x]" and rows["A2"].state_token == "[x]"
    attempts = parse_ledger(SourceText.read(root / LEDGER_FILE)).attempts_for("DEMO-001")
    assert sorted(a.number for a in attempts)[-2:] == [2, 3]
    for d in data:
        assert any(d["report_dir"].rstrip("/").split("/")[-2] in a.text for a in attempts if a.number == d["attempt"])


def test_mark_during_a_running_do_succeeds_at_once(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / "tests/test_barrier.py").write_text(BARRIER_TESTS)
    proc = start_do(root, "A1", "test_held")
    try:
        import time

        deadline = time.monotonic() + 60
        while not (root / "held.started").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the held test never started"
            time.sleep(0.05)
        # The run is in progress: bookkeeping does not wait for it (no lock wait at all).
        marked = ledger(root, "mark", "DEMO-001", "A3", "partial", "--note", "supervisor", "--lock-timeout", "0")
        assert marked.returncode == 0, marked.stderr
        added = ledger(root, "attempt", "add", "DEMO-001", "--summary", "supervisor review", "--lock-timeout", "0", "--json")
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["attempt"] == 2
        (root / "held.release").touch()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, (out, err)
    assert json.loads(out)["attempt"] == 3  # numbered after the attempt added while it ran
    rows = {r.id: r for r in parse_plan(SourceText.read(root / PLAN_FILE)).rows}
    assert rows["A1"].state_token == "[x]"
    assert rows["A3"].state_token == "[P]" and "supervisor" in rows["A3"].guidance
