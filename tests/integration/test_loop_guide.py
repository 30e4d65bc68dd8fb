"""The sample loop step in docs/loop-authors.md, run as written, on a real git workspace with a remote."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, git
from tests.integration.workspace_factory import make_workspace

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Demo initiative

    ### Phase A — Baseline Assessment
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | A1 | Passing selector | [ ] | Run `pytest tests/test_demo.py::test_ok -q`. |
    | A2 | Failing selector | [ ] | Run `pytest tests/test_demo.py::test_bad -q`. |
    """
)


def loop_step_script() -> str:
    guide = (REPO / "docs/loop-authors.md").read_text(encoding="utf-8")
    match = re.search(r"## One loop step in bash\n.*?```bash\n(.*?)```", guide, flags=re.S)
    assert match, "docs/loop-authors.md lost its sample loop step"
    return match.group(1)


@pytest.fixture
def loop(tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("the sample loop step uses jq, which is not installed")
    ws = make_workspace(tmp_path / "ws", plan=PLAN)
    git(tmp_path, "clone", "-q", "--bare", str(ws), "origin.git")
    git(ws, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(ws, "fetch", "-q", "origin")
    git(ws, "branch", "-q", "--set-upstream-to=origin/main", "main")
    (ws / ".gitignore").write_text((ws / ".gitignore").read_text() + "input.md\ncheck.json\nstep.json\naudit.json\n")
    git(ws, "commit", "-qam", "ignore the loop's scratch files")
    git(ws, "push", "-q", "origin", "main")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    agent = bin_dir / "run_engineer_agent"
    agent.write_text("#!/usr/bin/env bash\ntest -s \"$1\"\n")  # the engineer agent: here it only reads the directive
    agent.chmod(0o755)
    script = tmp_path / "loop_step.sh"
    script.write_text(loop_step_script())
    # The git identity comes from the autouse `git_identity` fixture's environment.
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    return ws, script, env, tmp_path / "origin.git"


def run_step(loop, row: str) -> subprocess.CompletedProcess:
    ws, script, env, _ = loop
    return subprocess.run(["bash", str(script), "DEMO-001", row], cwd=ws, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_a_green_row_is_run_recorded_committed_audited_and_pushed(loop):
    ws, _, _, origin = loop
    result = run_step(loop, "A1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed: DEMO-001 A1: passed (tests: pytest tests/test_demo.py::test_ok -q)" in result.stdout
    pushed = git(origin, "log", "-1", "--format=%s", "main").strip()
    assert pushed == "DEMO-001 A1: passed (tests: pytest tests/test_demo.py::test_ok -q)"
    assert "| A1 | Passing selector | [x] |" in git(origin, "show", "main:plans/active/DEMO-001/implementation.md")


@pytest.mark.slow
def test_a_red_row_is_recorded_and_the_step_says_so(loop):
    result = run_step(loop, "A2")
    # The run is recorded ([P], attempt, evidence) and the audit still passes: nothing claims more than it shows.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not green (failed); evidence in plans/active/DEMO-001/reports/" in result.stdout
