"""`workspace.confine`: the fast path (no symlink below the root) and the resolving one agree."""

from __future__ import annotations

import pytest

from ledger.errors import BadInput
from ledger.workspace import confine


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "ws"
    (root / "plans/active/X").mkdir(parents=True)
    (root / "plans/active/X/implementation.md").write_text("x")
    (tmp_path / "outside").mkdir()
    (root / "plans/in-link").symlink_to(root / "plans/active", target_is_directory=True)
    (root / "plans/out-link").symlink_to(tmp_path / "outside", target_is_directory=True)
    return root


@pytest.mark.parametrize("relative", [
    "plans/active/X/implementation.md",
    "plans/active/X/not-yet-written.md",
    "plans/in-link/X/implementation.md",  # a link that stays inside
    "plans/active/../active/X",
    ".",
])
def test_paths_that_stay_inside(tree, relative):
    assert confine(tree, tree / relative, "it") == tree / relative


@pytest.mark.parametrize("relative", ["plans/out-link/x.md", "plans/out-link", "../outside/x.md", "plans/../../outside"])
def test_paths_that_leave(tree, relative):
    with pytest.raises(BadInput, match=r"resolves outside the workspace .*\[rule: path-confinement\]"):
        confine(tree, tree / relative, "it")
