"""Atomic, change-checked writes (the splices they write are `ledger.markdown.splice`)."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.errors import ConcurrentEdit


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


# How many times an edit is planned again on content another program changed meanwhile.
MAX_REPLANS = 50

Replan = Callable[[str, str], "str | None"]


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomic(
    path: Path, text: str, expected_sha256: str | None, replan: Replan | None = None
) -> None:
    """Replace `path` with `text`, which was planned on the content hashing `expected_sha256`,
    without ever losing an edit another program makes meanwhile (compare-and-swap).

    The new content is written to a temp file first; then the file is checked and, when it
    is still what the edit was planned on, swapped in by one atomic rename(2) with
    RENAME_EXCHANGE, which hands back exactly what it replaced (readers see the old file or
    the new one, never a truncated one). When the file changed since it was read,
    `replan(text, sha256)` plans the edit again on the newer content (None: nothing to change
    any more); without `replan`, or when it keeps changing, ConcurrentEdit is raised with
    nothing written. What another program writes in the instant between the last check and
    the swap is recovered from the replaced file: an append is carried over, anything else
    is put back in place of ours and the write refused.
    """
    from ledger.markdown.text import decode_markdown

    drain_replaced()
    data = text.encode("utf-8")
    planned_on = _read_or_none(path)  # the content with `expected_sha256`, when it still is
    if _sha(planned_on) != expected_sha256:
        planned_on = None
    for _ in range(MAX_REPLANS):
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = _mode_for(path)
        tmp_name = _write_temp(path, data, mode)
        try:
            current = _read_or_none(path)
            if _sha(current) != expected_sha256 and not _appended_to(current, planned_on):
                os.unlink(tmp_name)
                if replan is None or current is None:
                    raise ConcurrentEdit(
                        "file changed on disk since it was read; nothing written, run the command again",
                        path,
                    )
                expected_sha256, planned_on = hashlib.sha256(current).hexdigest(), current
                new_text = replan(decode_markdown(current, path), expected_sha256)
                if new_text is None:
                    return
                data = new_text.encode("utf-8")
                continue
            # Unchanged, or only appended to since the edit was planned (a log line, `echo >>`):
            # swapped in now, and the appended bytes carried over below.
            replaced = _commit_temp(tmp_name, path)
        except BaseException:
            _discard(tmp_name)
            raise
        _fsync_dir(path.parent)
        if replaced is None:
            # No exchange: only `current` is known; what it added to the plan's base is kept.
            if planned_on is not None and current is not None and current != planned_on:
                _append(path, current[len(planned_on) :])
            return
        if planned_on is not None and replaced != planned_on:
            _recover_lost_write(path, planned_on, replaced, data)
        return
    raise ConcurrentEdit(
        f"file kept changing while ledger wrote it ({MAX_REPLANS} tries); nothing written, run the command again",
        path,
    )


def _appended_to(current: bytes | None, planned_on: bytes | None) -> bool:
    return (
        current is not None
        and planned_on is not None
        and len(current) > len(planned_on)
        and current.startswith(planned_on)
    )


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


# Files swapped out by the exchange, kept open a while: a program that opened the file just
# before the swap (`echo >> plan.md`: open, then write) may write its line into the replaced
# file a moment later; those bytes are carried over to the live file (`drain_replaced`).
_REPLACED: list[tuple[int, Path, int]] = []
_REPLACED_KEPT = 16


def drain_replaced() -> None:
    """Append to each live file what was written into the file it replaced after the swap."""
    for index, (fd, path, known) in enumerate(list(_REPLACED)):
        try:
            size = os.fstat(fd).st_size
            if size > known:
                _append(path, os.pread(fd, size - known, known))
                _REPLACED[index] = (fd, path, size)
        except OSError:
            pass


def _retire(fd: int, path: Path, size: int) -> None:
    global _REPLACED
    if not _REPLACED:
        import atexit

        atexit.register(_close_replaced)
    _REPLACED.append((fd, path, size))
    while len(_REPLACED) > _REPLACED_KEPT:
        os.close(_REPLACED.pop(0)[0])


def _close_replaced() -> None:
    drain_replaced()
    for fd, _, _ in _REPLACED:
        try:
            os.close(fd)
        except OSError:
            pass
    _REPLACED.clear()


def _commit_temp(tmp_name: str, path: Path) -> bytes | None:
    """Rename the temp file over `path`; returns what it replaced when the exchange is
    available (None otherwise, or when there was no file)."""
    if _exchange(tmp_name, path):
        fd = os.open(tmp_name, os.O_RDONLY)
        try:
            replaced = b""
            while chunk := os.read(fd, 1 << 20):
                replaced += chunk
            os.unlink(tmp_name)
        except BaseException:
            os.close(fd)
            raise
        _retire(fd, path, len(replaced))
        return replaced
    # No RENAME_EXCHANGE here (not Linux, or the file system lacks it): a plain rename right
    # after the last check, which leaves only that instant unchecked.
    os.replace(tmp_name, path)
    return None


def _recover_lost_write(path: Path, planned_on: bytes, replaced: bytes, ours: bytes) -> None:
    """Another program wrote between our last check and the swap. An append (the common
    case: a log line, `echo >> plan.md`) is appended to our version; any other change puts
    their version back and refuses."""
    if replaced.startswith(planned_on):
        _append(path, replaced[len(planned_on) :])
        return
    back = _swap_in(path, replaced)
    if back is not None and back != ours and back.startswith(ours):
        _append(path, back[len(ours) :])  # and they appended to ours in the meantime: kept too
    raise ConcurrentEdit(
        "file changed on disk while it was written; their version kept, nothing written, run the command again",
        path,
    )


def _swap_in(path: Path, data: bytes) -> bytes | None:
    """Put `data` at `path` atomically; returns what it replaced where that is known."""
    mode = _mode_for(path)
    tmp_name = _write_temp(path, data, mode)
    try:
        replaced = _commit_temp(tmp_name, path)
    except BaseException:
        _discard(tmp_name)
        raise
    _fsync_dir(path.parent)
    return replaced


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Any = None  # None: not looked up yet; False: this libc has no renameat2


def _exchange(source: str, target: Path) -> bool:
    """renameat2(source, target, RENAME_EXCHANGE): swap the two names atomically. False
    when the call or the flag is not available (the caller falls back to os.replace)."""
    global _renameat2
    if _renameat2 is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _renameat2 = libc.renameat2
            _renameat2.argtypes = [
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_uint,
            ]
            _renameat2.restype = ctypes.c_int
        except (OSError, AttributeError):
            _renameat2 = False
    if _renameat2 is False or not target.exists():
        return False
    import ctypes

    if (
        _renameat2(
            _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(str(target)), _RENAME_EXCHANGE
        )
        == 0
    ):
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOENT):
        return False
    raise OSError(err, os.strerror(err), str(target))


def _mode_for(path: Path) -> int:
    """An existing file keeps its mode; a new one gets what open(2) would give it."""
    return path.stat().st_mode & 0o7777 if path.exists() else default_mode()


def _discard(tmp_name: str) -> None:
    try:
        os.unlink(tmp_name)
    except FileNotFoundError:
        pass


def _write_temp(path: Path, data: bytes, mode: int) -> str:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
    except BaseException:
        _discard(tmp_name)
        raise
    return tmp_name


def current_umask() -> int:
    """The process umask, read without changing it (os.umask can only read by setting,
    which races with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(directory: bool = False) -> int:
    """What open(2)/mkdir(2) would give a new file or folder: 0666/0777 less the umask.
    tempfile's mkstemp/mkdtemp create 0600/0700 whatever the umask; what ledger creates
    through them is set to this instead, so a shared checkout stays readable."""
    return (0o777 if directory else 0o666) & ~current_umask()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_name = _write_temp(path, data, _mode_for(path))
    try:
        os.replace(tmp_name, path)
    except BaseException:
        _discard(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
