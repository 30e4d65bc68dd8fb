"""Does a report folder still hold exactly what its manifest recorded?"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ledger.evidence import MANIFEST, TIMESTAMP, sha256_file

INTACT, TAMPERED, INCOMPLETE, NO_MANIFEST = "intact", "tampered", "incomplete", "no_manifest"


@dataclass(frozen=True)
class FolderCheck:
    folder: Path
    status: str
    manifest: dict | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # harmless differences, e.g. a file added after the run

    @property
    def outcome(self) -> str | None:
        return self.manifest.get("outcome") if self.manifest else None

    @property
    def sort_key(self) -> tuple[str, str]:
        """Oldest first: the `<TS>` folder name, then the recorded start time."""
        timestamp = next((name for name in reversed(str(self.folder).split(os.sep)) if TIMESTAMP.match(name)), "")
        started = str(self.manifest.get("started_at", "")) if self.manifest else ""
        return timestamp, started


class IntegrityChecker:
    """Checks each folder once; an audit asks about the same folder from many rows."""

    def __init__(self) -> None:
        self._cache: dict[Path, FolderCheck] = {}
        self._folders: dict[tuple[str, str], Path | None] = {}
        self._has_manifest: dict[str, bool] = {}

    def check(self, folder: Path) -> FolderCheck:
        if folder not in self._cache:
            self._cache[folder] = check_folder(folder)
        return self._cache[folder]

    def checked(self) -> list[FolderCheck]:
        return list(self._cache.values())

    def evidence_folder(self, path: Path, stop: Path) -> Path | None:
        """`evidence_folder`, remembered per folder: many citations point into the same run."""
        key = (str(path), str(stop))
        if key not in self._folders:
            self._folders[key] = evidence_folder(path, stop, self._has_manifest)
        return self._folders[key]


def check_folder(folder: Path) -> FolderCheck:
    path = folder / MANIFEST
    if not path.is_file():
        return FolderCheck(folder, NO_MANIFEST, None)
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return FolderCheck(folder, TAMPERED, None, (f"manifest.json is not valid JSON ({exc.__class__.__name__})",))
    if not isinstance(manifest, dict):
        return FolderCheck(folder, TAMPERED, None, ("manifest.json is not a JSON object",))
    if manifest.get("complete") is not True:
        return FolderCheck(folder, INCOMPLETE, manifest, ("the run never finished writing its evidence (manifest complete=false)",))
    files = manifest.get("files")
    if not isinstance(files, dict):
        return FolderCheck(folder, TAMPERED, manifest, ("manifest.json lists no file hashes",))
    problems: list[str] = []
    for name, expected in sorted(files.items()):
        target = folder / name
        if not isinstance(name, str) or name.startswith("/") or ".." in name.split("/") or target.is_symlink():
            problems.append(f"{name}: listed path leaves the report folder")
        elif not target.is_file():
            problems.append(f"{name}: listed in the manifest but missing")
        elif sha256_file(target) != expected:
            problems.append(f"{name}: sha256 differs from the manifest (edited after the run)")
    notes = tuple(f"{name}: added after the run (not in the manifest)" for name in _files_below(folder) if name not in files)
    return FolderCheck(folder, TAMPERED if problems else INTACT, manifest, tuple(problems), notes)


def _files_below(folder: Path) -> list[str]:
    """Relative POSIX names of the regular files under `folder`, the manifest excepted."""
    names: list[str] = []
    pending = [(str(folder), "")]
    while pending:
        current, prefix = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                relative = prefix + entry.name
                # DirEntry answers from the directory listing: no stat per file.
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, relative + "/"))
                elif relative != MANIFEST and entry.is_file():
                    names.append(relative)
    return sorted(names)


def evidence_folder(path: Path, stop: Path, has_manifest: dict[str, bool] | None = None) -> Path | None:
    """The nearest folder at or above `path` (below `stop`) that holds a manifest.

    `has_manifest` remembers each folder's answer: citations of sibling files walk the same parents.
    """
    known = has_manifest if has_manifest is not None else {}
    stop_text = str(stop).rstrip(os.sep)
    current = str(path) if os.path.isdir(path) else os.path.dirname(path)
    while current.startswith(stop_text + os.sep):
        found = known.get(current)
        if found is None:
            found = known[current] = os.path.isfile(os.path.join(current, MANIFEST))
        if found:
            return Path(current)
        current = os.path.dirname(current)
    return None


def manifest_folders_below(folder: Path) -> list[Path]:
    """Manifest folders one level down: a cited `reports/<TS>/` covers its `<slug>/` runs."""
    if not folder.is_dir():
        return []
    return sorted(child for child in folder.iterdir() if child.is_dir() and (child / MANIFEST).is_file())
