"""ledger.running.early_start's guesses, made from the raw arguments and files before ledger
loads: when it forks, the interpreter it forks must be the one `resolve_interpreter` picks
(a wrong "yes" would run the tests under the wrong Python; a wrong "no" only costs time)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ledger.running import early_start
from ledger.running.early_start import _tests_run_under_this_interpreter, _workspace_root
from ledger.running.interpreter import resolve_interpreter


def make_venv_python(venv: Path) -> None:
    python = venv / "bin/python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)


SETUPS = {
    "nothing": {},
    "pyproject without ledger settings": {"pyproject.toml": '[project]\nrequires-python = ">=3.11"\n'},
    "pyproject, ledger settings without python": {
        "pyproject.toml": '[tool.ledger]\nplan_roots = ["plans/active"]\n'
    },
    "pyproject, ledger python": {"pyproject.toml": '[tool.ledger]\npython = "/usr/bin/python3"\n'},
    "pyproject, quoted key": {"pyproject.toml": '[tool.ledger]\n"python" = "/usr/bin/python3"\n'},
    "ledger.toml python": {"ledger.toml": 'python = "/usr/bin/python3"\n'},
    "ledger.toml, tool.ledger table": {"ledger.toml": '[tool.ledger]\npython = "/usr/bin/python3"\n'},
    "poetry's python, ledger settings": {
        "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\n\n[tool.ledger]\ntimeout = 60\n'
    },
    "ledger python, then another table": {
        "pyproject.toml": '[tool.ledger]\npython = "/usr/bin/python3"\n[tool.other]\nx = 1\n'
    },
    "ledger.toml wins over pyproject": {
        "ledger.toml": "[tool.ledger]\n",
        "pyproject.toml": '[tool.ledger]\npython = "/usr/bin/python3"\n',
    },
    ".venv": {".venv": None},
    "venv": {"venv": None},
    "a virtualenv active": {"$VIRTUAL_ENV": None},
    "ledger's own virtualenv active": {"$VIRTUAL_ENV=prefix": None},
}


@pytest.mark.parametrize("setup", sorted(SETUPS))
def test_the_guess_agrees_with_the_interpreter_ledger_resolves(tmp_path, monkeypatch, setup):
    root = tmp_path / "ws"
    (root / "plans").mkdir(parents=True)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    for name, text in SETUPS[setup].items():
        if name == "$VIRTUAL_ENV":
            make_venv_python(tmp_path / "active")
            monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "active"))
        elif name == "$VIRTUAL_ENV=prefix":
            monkeypatch.setenv("VIRTUAL_ENV", str(Path(sys.executable).parent.parent))
        elif text is None:
            make_venv_python(root / name)
        else:
            (root / name).write_text(text)
    from ledger.config import load_config

    try:
        config = load_config(root)
        resolved = resolve_interpreter(root, config.python, config.source).path
    except Exception:  # a configured Python that is missing: no early start either way
        resolved = None
    assert _tests_run_under_this_interpreter(str(root)) == (resolved == sys.executable)


def test_the_workspace_root_is_roots_option_or_the_nearest_folder_holding_plans(
    tmp_path, monkeypatch
):
    root = tmp_path / "ws"
    (root / "plans").mkdir(parents=True)
    (root / "src/deep").mkdir(parents=True)
    real = os.path.realpath(root)
    assert _workspace_root(["A", "B", "--root", str(root)]) == real
    assert _workspace_root(["A", f"--root={root}", "B"]) == real
    assert _workspace_root(["--root", str(tmp_path / "missing")]) is None
    monkeypatch.chdir(root / "src/deep")
    assert _workspace_root(["A", "B"]) == real
    monkeypatch.chdir(tmp_path)
    assert _workspace_root(["A", "B"]) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["ledger", "status"],
        ["ledger", "do", "A", "B", "--dry-run"],
        ["ledger", "do", "--help"],
        ["ledger", "do", "A", "B", "-h"],
        ["ledger"],
    ],
)
def test_no_fork_where_no_tests_run(tmp_path, monkeypatch, argv):
    (tmp_path / "plans").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    early_start.fork_for_do(argv)
    assert early_start.take() is None
