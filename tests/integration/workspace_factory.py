"""Small real workspaces (git repos) for CLI integration tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.conftest import git

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Demo initiative

    ## Context
    - Findings: POLICY-001

    ### Phase A — Baseline Assessment
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | A1 | Passing selector | [ ] | Run `pytest tests/test_demo.py::test_ok -q`. |
    | A2 | Failing selector | [ ] | Run `pytest tests/test_demo.py::test_bad -q`. |
    | A3 | Collects nothing | [ ] | Run `pytest tests/test_demo.py::test_missing -q`. |
    | A4 | No selector | [x] | Prose only. |
    | A5 | Unsafe selector | [ ] | Run `pytest tests/test_demo.py; rm -rf /`. |
    | A6 | Slow | [ ] | `SLOW_SECONDS=30 pytest tests/test_demo.py::test_slow -q` |

    ### Phase C — Checklist
    - [ ] C1: Env override `DEMO_FLAG=on pytest tests/test_demo.py::test_env -q`.
    """
)

TESTS = textwrap.dedent(
    """\
    import os
    import time


    def test_ok():
        assert 1 + 1 == 2


    def test_bad():
        assert 1 + 1 == 3


    def test_slow():
        # Tests that interrupt a run wait for this marker: the test body is running.
        if os.environ.get("SLOW_STARTED_MARKER"):
            open(os.environ["SLOW_STARTED_MARKER"], "w").close()
        time.sleep(float(os.environ.get("SLOW_SECONDS", "0")))


    def test_env():
        assert os.environ["DEMO_FLAG"] == "on"
        assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
    """
)

LEDGER = textwrap.dedent(
    """\
    # Fix Plan Ledger

    ## [DEMO-001] Demo initiative
    - Status: in_progress
    - Attempts History:
      * [2026-11-01] Attempt #0 — Planning: created.
      * [2026-11-02] Attempt #1 — Phase A.A4: prose.
    - Exit Criteria:
      - all green
    """
)


def make_workspace(root: Path, *, git_repo: bool = True, ledger: str = LEDGER, plan: str = PLAN) -> Path:
    (root / "plans/active/DEMO-001").mkdir(parents=True)
    (root / "plans/active/DEMO-001/implementation.md").write_text(plan, encoding="utf-8")
    (root / "docs").mkdir()
    (root / "docs/fix_plan.md").write_text(ledger, encoding="utf-8")
    (root / "docs/findings.md").write_text(
        "# Findings\n\n| Finding ID | Synopsis |\n| --- | --- |\n| POLICY-001 | demo |\n", encoding="utf-8"
    )
    (root / "tests").mkdir()
    (root / "tests/test_demo.py").write_text(TESTS, encoding="utf-8")
    # allow_env: the selector policy lets plan text set only allowlisted names (A6, C1 set these).
    (root / "ledger.toml").write_text(
        '[tool.ledger]\nenv = { CUDA_VISIBLE_DEVICES = "" }\nallow_env = ["SLOW_SECONDS", "DEMO_FLAG"]\n', encoding="utf-8"
    )
    (root / ".gitignore").write_text(".ledger.lock\n__pycache__/\n.pytest_cache/\n", encoding="utf-8")
    if git_repo:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "workspace")
    return root
