"""The workspace lock every writing command holds."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ledger.errors import WorkspaceLocked

LOCK_NAME = ".ledger.lock"


@contextmanager
def workspace_lock(root: Path, timeout_s: float) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock_path = root / LOCK_NAME
    lock = FileLock(str(lock_path), timeout=timeout_s, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise WorkspaceLocked(
            f"workspace is locked by another ledger command; waited {timeout_s:g}s (--lock-timeout)", lock_path
        ) from None
    try:
        yield
    finally:
        lock.release()
