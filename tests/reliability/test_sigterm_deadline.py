"""An orchestrator stops an agent with SIGTERM and SIGKILLs it 5 s later: `ledger do` must have
its record (manifest complete, attempt appended) written by then, even when the test under
it ignores SIGINT and must be killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time

import pytest

from tests.conftest import LEDGER_BIN
from tests.integration.workspace_factory import make_workspace
from tests.reliability.helpers import terminal_signals

pytestmark = pytest.mark.slow

# The orchestrator's contract this test plays: SIGTERM, then SIGKILL 5 s later.
KILL_AFTER_TERM_S = 5.0

STUBBORN_TEST = textwrap.dedent(
    """\
    import os
    import signal
    import time
    from pathlib import Path


    def test_stubborn():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # ignores the polite stop: must be killed
        Path(os.environ["STARTED_MARKER"]).write_text("started")
        time.sleep(120)
    """
)


def test_record_is_complete_before_the_orchestrators_sigkill(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    (root / "tests/test_stubborn.py").write_text(STUBBORN_TEST)
    marker = tmp_path / "started"
    proc = subprocess.Popen(
        [str(LEDGER_BIN), "do", "DEMO-001", "A1", "--selector", "pytest tests/test_stubborn.py -q", "--timeout", "0",
         "--root", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "STARTED_MARKER": str(marker)},
        preexec_fn=terminal_signals,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the test never started"
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=KILL_AFTER_TERM_S)
        except subprocess.TimeoutExpired:
            proc.kill()  # what the orchestrator does; whatever is not written by now is lost
            proc.wait()
        out = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    (folder,) = sorted((root / "plans/active/DEMO-001/reports").glob("*/*"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["outcome"] == "interrupted", out
    assert set(manifest["files"]) >= {"pytest.log", "env.json"} and (folder / "summary.md").is_file()
    assert "INTERRUPTED" in (root / "docs/fix_plan.md").read_text()
    assert proc.returncode == 130, out
