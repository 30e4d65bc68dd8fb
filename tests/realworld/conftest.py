"""Fixtures for the real-world suite: whole workspace trees exported from a real agent loop
(public data from hoidn/PtychoPINN, in the read-only corpus beside the checkout; see
../shared/corpus/README.md). Tests never touch the corpus: they work on a copy."""
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CORPUS

WORKSPACES = CORPUS / "workspaces"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture
def real_workspace(tmp_path):
    """A factory: `real_workspace("dose_experiments-37f759f")` copies that exported tree into
    tmp_path, `git init`s it and commits everything (as a loop author would before running
    ledger on it), and returns its root. Skips when the corpus is not there."""

    def copy(name: str) -> Path:
        source = WORKSPACES / name
        if not source.is_dir():
            pytest.skip(f"real workspace {name!r} not found under {WORKSPACES}")
        root = tmp_path / name
        shutil.copytree(source, root, symlinks=True)
        # The corpus is read-only; the copy must be writable for commands that edit it.
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "--no-verify", "-m", f"exported tree {name}")
        return root

    return copy
