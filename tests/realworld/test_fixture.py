"""The shared fixture itself: a writable, committed copy that leaves the corpus untouched."""
import subprocess

from tests.realworld.conftest import WORKSPACES


def test_real_workspace_copy_is_a_clean_git_repo_with_every_file(real_workspace):
    root = real_workspace("dose_experiments-37f759f")
    source_files = sorted(
        p.relative_to(WORKSPACES / "dose_experiments-37f759f").as_posix()
        for p in (WORKSPACES / "dose_experiments-37f759f").rglob("*") if p.is_file())
    tracked = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True,
                             text=True).stdout.split("\n")
    assert sorted(t for t in tracked if t) == source_files
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True,
                            capture_output=True, text=True).stdout
    assert status == ""
    (root / "docs" / "fix_plan.md").write_bytes((root / "docs" / "fix_plan.md").read_bytes())
