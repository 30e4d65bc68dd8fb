"""Temp files a killed ledger left behind: found, reported by audit, removed under the lock.

Every atomic write goes through a temp file beside its target, named `.<name>.XXXXXXXX.tmp`
(tempfile.mkstemp), and a new report folder is built as `.<slug>.XXXXXXXX.tmp/`. A process
killed at the wrong moment leaves one; the next writing command removes those beside the
files ledger writes (they can belong to no live ledger: it holds the workspace lock), and
`ledger audit` lists any it finds, report staging folders included. `init --git` ignores them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
GITIGNORE_PATTERN = ".*.tmp"


def _folders_written(root: Path) -> list[Path]:
    """The folders ledger's edits write into: the root, the ledger's and findings' folders,
    the templates folder and every initiative folder (one listing each, no deep walk)."""
    from ledger.config import load_config

    try:
        config = load_config(root)
    except Exception:  # a broken config is reported by the command itself
        return [root]
    folders = {root}
    for value in (config.ledger, config.findings, getattr(config, "templates", None)):
        if isinstance(value, str):
            folders.add((root / value).parent if value.endswith(".md") else root / value)
    for plan_root in config.plan_roots:
        try:
            with os.scandir(root / plan_root) as entries:
                folders.update(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))
        except OSError:
            continue
    return sorted(folders)


def leftovers_in(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(
                Path(e.path) for e in entries if TEMP_NAME.match(e.name) and not e.is_symlink()
            )
    except OSError:
        return []


def find_leftovers(root: Path, report_stamp_folders: Iterable[Path] = ()) -> list[Path]:
    found = [path for folder in _folders_written(root) for path in leftovers_in(folder)]
    for stamp in report_stamp_folders:
        found += leftovers_in(stamp)
    return found


def remove_leftovers(root: Path) -> list[Path]:
    """Remove the temp files beside the files ledger writes. Call holding the workspace lock."""
    removed = []
    for path in find_leftovers(root):
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed
