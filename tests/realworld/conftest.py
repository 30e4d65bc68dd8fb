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


def copy_real_workspace(name: str, parent: Path) -> Path:
    """Copy the exported tree `name` into `parent`, `git init` it and commit everything (as a
    loop author would before running ledger on it); return its root. Skips when the corpus
    is not there."""
    source = WORKSPACES / name
    if not source.is_dir():
        pytest.skip(f"real workspace {name!r} not found under {WORKSPACES}")
    root = parent / name
    shutil.copytree(source, root, symlinks=True)
    # The corpus is read-only; the copy must be writable for commands that edit it.
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    # An identity of its own: module-scoped copies are made outside the per-test git identity.
    _git(root, "-c", "user.name=ledger tests", "-c", "user.email=tests@example.invalid",
         "commit", "-q", "--no-verify", "-m", f"exported tree {name}")
    return root


@pytest.fixture
def real_workspace(tmp_path):
    """A factory: `real_workspace("dose_experiments-37f759f")` is a fresh committed copy of
    that exported tree under tmp_path (see copy_real_workspace)."""

    def copy(name: str) -> Path:
        return copy_real_workspace(name, tmp_path)

    return copy
