"""`ledger do` runs the selector under the workspace's Python, with real virtual environments.

Two venvs made with `python -m venv`: one has the test's dependency (`fakedep`, written into
its site-packages with its dist-info, no network), the other does not. Both reach pytest
through a .pth file pointing at the test runner's own site-packages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import LEDGER_BIN
from tests.integration.workspace_factory import make_workspace

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Interpreter

    ### Phase A — Needs a dependency
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | V1 | Uses fakedep | [x] | `pytest tests/test_needs_dep.py -q` |
    """
)


def make_venv(path: Path, with_dep: bool) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, capture_output=True)
    python = path / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip())
    # pytest (from wherever the runner's own pytest is installed) through a .pth line.
    (site / "runner_site.pth").write_text(str(Path(pytest.__file__).resolve().parents[1]) + "\n")
    if with_dep:
        (site / "fakedep").mkdir()
        (site / "fakedep/__init__.py").write_text("ANSWER = 42\n")
        (site / "fakedep-1.2.3.dist-info").mkdir()
        (site / "fakedep-1.2.3.dist-info/METADATA").write_text("Metadata-Version: 2.1\nName: fakedep\nVersion: 1.2.3\n")
    return path


@pytest.fixture(scope="module")
def venvs(tmp_path_factory):
    base = tmp_path_factory.mktemp("venvs")
    return {"with": make_venv(base / "with_dep", True), "without": make_venv(base / "without_dep", False)}


@pytest.fixture
def ws(tmp_path):
    root = make_workspace(tmp_path / "ws", plan=PLAN, git_repo=False)
    (root / "tests/test_needs_dep.py").write_text("import fakedep\n\n\ndef test_answer():\n    assert fakedep.ANSWER == 42\n")
    return root


def ledger(ws: Path, *args: str, virtual_env: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    if virtual_env:
        env["VIRTUAL_ENV"] = virtual_env
    return subprocess.run([str(LEDGER_BIN), *args, "--root", str(ws)], capture_output=True, text=True, timeout=300, env=env)


def newest_folder(ws: Path) -> Path:
    return sorted((ws / "plans/active/DEMO-001/reports").glob("*/*"))[-1]


def state_cell(ws: Path) -> str:
    line = next(l for l in (ws / "plans/active/DEMO-001/implementation.md").read_text().splitlines() if l.startswith("| V1 "))
    return line.split("|")[3].strip()


def test_workspace_venv_runs_the_tests_and_is_the_snapshot(ws, venvs):
    (ws / ".venv").symlink_to(venvs["with"], target_is_directory=True)
    result = ledger(ws, "do", "DEMO-001", "V1", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "passed"
    assert data["python"]["source"] == "workspace-venv" and data["python"]["path"] == str(ws / ".venv/bin/python")
    assert data["argv"][0] == str(ws / ".venv/bin/python")
    folder = newest_folder(ws)
    env = json.loads((folder / "env.json").read_text())
    # Taken from that interpreter: its prefix is the venv's, not ledger's.
    assert Path(env["python"]["prefix"]).resolve() == venvs["with"].resolve()
    assert env["interpreter"]["source"] == "workspace-venv"
    assert "Interpreter chosen: the workspace's .venv/" in (folder / "env_snapshot.txt").read_text()
    assert "**Python:** `" + str(ws / ".venv/bin/python") + "` — the workspace's .venv/" in (folder / "summary.md").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["python"]["source"] == "workspace-venv"


def test_configured_python_without_the_dependency_is_a_collection_error_not_a_regression(ws, venvs):
    (ws / ".venv").symlink_to(venvs["with"], target_is_directory=True)
    python = venvs["without"] / "bin/python"
    (ws / "ledger.toml").write_text(f'[tool.ledger]\npython = "{python}"\n')
    result = ledger(ws, "do", "DEMO-001", "V1", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 5 and data["outcome"] == "collection_error"
    assert data["python"]["source"] == "config"
    assert data["reason"] == "ModuleNotFoundError: No module named 'fakedep' (collecting tests/test_needs_dep.py)"
    assert state_cell(ws) == "[x]"


def test_active_virtual_env_is_used_when_the_workspace_has_none(ws, venvs):
    result = ledger(ws, "do", "DEMO-001", "V1", "--json", virtual_env=str(venvs["with"]))
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["python"]["source"] == "virtual-env" and data["outcome"] == "passed"


def test_ledgers_own_python_is_the_last_resort_and_says_so(ws, venvs):
    dry = ledger(ws, "do", "DEMO-001", "V1", "--dry-run")
    python_line = next(line for line in dry.stdout.splitlines() if line.strip().startswith("python:"))
    assert "(ledger's own (no [tool.ledger] python, no .venv/ or venv/ in the workspace, no active $VIRTUAL_ENV)" in python_line
    result = ledger(ws, "do", "DEMO-001", "V1", "--json")
    data = json.loads(result.stdout)
    # fakedep lives only in the "with" venv: ledger's own Python cannot import it.
    assert result.returncode == 5 and data["outcome"] == "collection_error"
    assert data["python"]["source"] == "ledger" and state_cell(ws) == "[x]"


def test_dry_run_and_show_name_the_interpreter_and_why(ws, venvs):
    (ws / "venv").symlink_to(venvs["without"], target_is_directory=True)
    dry = ledger(ws, "do", "DEMO-001", "V1", "--dry-run")
    assert f"python:     {ws / 'venv/bin/python'}  (the workspace's venv/ (venv/bin/python))" in dry.stdout
    show = ledger(ws, "show", "DEMO-001", "V1")
    assert f"python:    {ws / 'venv/bin/python'} (the workspace's venv/" in show.stdout


def test_a_configured_python_that_does_not_exist_is_refused_before_running(ws):
    (ws / "ledger.toml").write_text('[tool.ledger]\npython = "no/such/python"\n')
    result = ledger(ws, "do", "DEMO-001", "V1")
    assert result.returncode == 2 and "is not an executable Python" in result.stderr
    assert not (ws / "plans/active/DEMO-001/reports").exists()
