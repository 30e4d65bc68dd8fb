"""Minimal splices and atomic, change-checked writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import ConcurrentEdit


@dataclass(frozen=True)
class Splice:
    start: int
    end: int
    text: str


def apply_splices(text: str, splices: list[Splice]) -> str:
    ordered = sorted(splices, key=lambda s: (s.start, s.end))
    for earlier, later in zip(ordered, ordered[1:]):
        if later.start < earlier.end:
            raise ValueError(f"overlapping edits at {earlier.start}-{earlier.end} and {later.start}-{later.end}")
    pieces: list[str] = []
    cursor = 0
    for splice in ordered:
        pieces.append(text[cursor:splice.start])
        pieces.append(splice.text)
        cursor = splice.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def write_atomic(path: Path, text: str, expected_sha256: str | None) -> None:
    """Replace `path` with `text` unless it changed since it was read.

    The temp file lives beside the target so os.replace is a same-filesystem
    rename: readers see the old file or the new one, never a truncated one.
    """
    current = file_sha256(path)
    if current != expected_sha256:
        raise ConcurrentEdit("file changed on disk since it was read; nothing written, run the command again", path)
    write_bytes_atomic(path, text.encode("utf-8"))


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
    mode = path.stat().st_mode & 0o7777 if path.exists() else default_mode()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
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
