"""The workspace lock every writing command holds.

Its file lives in the repository's git directory (`.git/ledger.lock`, or the
worktree's own git directory), outside the work tree: a loop that refuses to
hand over while an untracked file is left (a whitelist guard) never sees it,
and `git status` stays clean. A workspace that is not in a git repository
keeps it at its root as `.ledger.lock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.errors import WorkspaceLocked

LOCK_NAME = ".ledger.lock"  # at the workspace root, only where there is no git directory
GIT_LOCK_NAME = "ledger.lock"


def git_dir(start: Path) -> Path | None:
    """The git directory of the work tree holding `start` (a `.git` folder, or the folder a
    `.git` file points to, as in worktrees and submodules); None outside any repository.

    Read from the file system, not by running git: every writing command asks, and
    `ledger --help`/`status` must not import GitPython."""
    current = start.resolve()
    for folder in (current, *current.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            try:
                text = dot_git.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if text.startswith("gitdir:"):
                target = Path(text.removeprefix("gitdir:").strip())
                target = target if target.is_absolute() else folder / target
                return target.resolve() if target.is_dir() else None
            return None
    return None


def lock_path(root: Path) -> Path:
    found = git_dir(root)
    return found / GIT_LOCK_NAME if found is not None else root / LOCK_NAME


@contextmanager
def workspace_lock(root: Path, timeout_s: float, repair: bool = True) -> Iterator[None]:
    from filelock import FileLock, Timeout

    path = lock_path(root)
    lock = FileLock(str(path), timeout=timeout_s, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise WorkspaceLocked(
            f"workspace is locked by another ledger command; waited {timeout_s:g}s (--lock-timeout)",
            path,
        ) from None
    try:
        # Temp files of a ledger killed mid-write: no live ledger owns them while we hold the lock.
        from ledger.editing.tempfiles import remove_leftovers

        remove_leftovers(root)
        # A `do` killed half-way through recording its run: completed before anything else.
        if repair:
            _repair_quietly(root)
        yield
    finally:
        lock.release()


def _repair_quietly(root: Path) -> None:
    """Complete a half-recorded run before this command writes; never fail the command over it
    (audit keeps reporting the run, and `ledger repair` says what stops it)."""
    import sys

    from ledger.editing.repair import repair_at
    from ledger.errors import LedgerError

    try:
        for line in repair_at(root):
            print(f"[ledger] {line}", file=sys.stderr)
    except (LedgerError, OSError, StopIteration, KeyError) as exc:
        print(
            f"[ledger] a half-recorded run could not be completed ({exc}); see ledger repair",
            file=sys.stderr,
        )
