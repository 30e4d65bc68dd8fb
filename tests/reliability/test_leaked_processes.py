"""Processes the tests leak, and a ledger killed mid-run (issue 11: `do` waited 40 s for a
0.74 s test whose setsid() child held the output pipe, and recorded 40 s)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import LEDGER_BIN
from tests.integration.workspace_factory import make_workspace

pytestmark = pytest.mark.slow

LEAKY_TEST = '''
import os, subprocess, sys

def test_leaks_a_daemon():
    # A setsid() child that keeps pytest's stdout open for 5 minutes, as a leaked server does
    # (far above the bounds below, which leave a loaded machine room for ledger's own work).
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    open(os.environ["LEAK_PID_FILE"], "w").write(str(child.pid))
'''

# A daemon made the old way, without any exec: fork, setsid, fork again, the middle one exits.
# Under the early-forked interpreter (ledger.running.early_start) its environment block is
# ledger's, without the run's id: it is found as an orphan in another session all the same.
FORKED_DAEMON_TEST = '''
import os, time

def test_leaks_a_forked_daemon():
    pid_file = os.environ["LEAK_PID_FILE"]
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            open(pid_file + ".tmp", "w").write(str(os.getpid()))
            os.rename(pid_file + ".tmp", pid_file)
            time.sleep(300)
        os._exit(0)
    while not os.path.exists(pid_file):
        time.sleep(0.01)
'''

SLOW_TEST = '''
import os, time

def test_waits():
    open(os.environ["STARTED_FILE"], "w").write(str(os.getpid()))
    time.sleep(60)
'''


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def test_do_stops_a_leaked_setsid_child_and_records_pytests_own_duration(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / "tests/test_leaky.py").write_text(LEAKY_TEST)
    pid_file = tmp_path / "leak.pid"
    env = {**os.environ, "LEAK_PID_FILE": str(pid_file)}
    # The subprocess timeout is the check that do does not wait for the 5-minute child.
    result = subprocess.run(
        [str(LEDGER_BIN), "do", "DEMO-001", "A1", "--selector", "pytest tests/test_leaky.py -q", "--json", "--root", str(root)],
        capture_output=True, text=True, timeout=150, env=env, cwd=root,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert data["outcome"] == "passed"
    leaked = int(pid_file.read_text())
    assert not alive(leaked), "the leaked child is still running"
    # The recorded duration is pytest's (seconds), not the child's 5 minutes.
    assert data["duration_s"] < 120
    manifest = json.loads((root / data["report_dir"] / "manifest.json").read_text())
    assert manifest["duration_s"] == data["duration_s"]
    assert "1 passed" in (root / data["report_dir"] / "pytest.log").read_text()


def test_do_stops_a_daemon_forked_without_exec(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / "tests/test_forked_daemon.py").write_text(FORKED_DAEMON_TEST)
    pid_file = tmp_path / "leak.pid"
    result = subprocess.run(
        [str(LEDGER_BIN), "do", "DEMO-001", "A1", "--selector", "pytest tests/test_forked_daemon.py -q", "--json"],
        capture_output=True, text=True, timeout=150, env={**os.environ, "LEAK_PID_FILE": str(pid_file)}, cwd=root,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert json.loads(result.stdout)["outcome"] == "passed"
    assert not alive(int(pid_file.read_text())), "the forked daemon is still running"


def test_a_killed_ledger_does_not_leave_pytest_running(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / "tests/test_waits.py").write_text(SLOW_TEST)
    started = tmp_path / "started"
    proc = subprocess.Popen(
        [str(LEDGER_BIN), "do", "DEMO-001", "A1", "--selector", "pytest tests/test_waits.py -q", "--root", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "STARTED_FILE": str(started)}, cwd=root,
    )
    try:
        wait_until(lambda: started.exists() and started.read_text().strip(), "pytest runs the test")
        pytest_pid = int(started.read_text())
        assert alive(pytest_pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # The parent-death signal takes pytest down with ledger.
        wait_until(lambda: not alive(pytest_pid), "pytest stops after ledger was killed", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        if started.exists() and started.read_text().strip():
            try:
                os.kill(int(started.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
