"""Does a report folder still hold exactly what its manifest recorded?"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.running.evidence import (
    ATTESTATION,
    MANIFEST,
    MANIFEST_VERSION,
    SEAL,
    TIMESTAMP,
    manifest_payload,
    read_small_file,
    record_region,
    sha256_file,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ledger.reading.audit.crosscheck import CrossChecker  # it imports this module


class FolderStatus(StrEnum):
    """What checking one report folder against its manifest found."""

    INTACT = "intact"
    TAMPERED = "tampered"
    INCOMPLETE = "incomplete"  # the run never finished writing its evidence (complete=false)
    NO_MANIFEST = "no_manifest"
    # A manifest without its own content hash — hand-written, or from a ledger older than
    # manifest version 2. Its files may match it, but nothing says ledger wrote it.
    UNSEALED = "unsealed"
    # Files the manifest lists are absent and none present was edited: on another clone, the
    # run's evidence was never committed (or, here, deleted) — not tampering.
    MISSING = "missing"


@dataclass(frozen=True)
class FolderCheck:
    folder: Path
    status: FolderStatus
    manifest: dict | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # harmless differences, e.g. a file added after the run
    attested_by: str | None = None  # key id of a valid attestation this machine can check

    @property
    def outcome(self) -> str | None:
        return self.manifest.get("outcome") if self.manifest else None

    @cached_property  # sort_key, is_future and the times check ask again and again
    def folder_timestamp(self) -> str:
        return next(
            (name for name in reversed(str(self.folder).split(os.sep)) if TIMESTAMP.match(name)), ""
        )

    @property
    def sort_key(self) -> tuple[str, str]:
        """Oldest first by the recorded start (a folder name is only a name: renaming one to
        2099 must not make it "newest"), then the `<TS>` folder name."""
        started = str(self.manifest.get("started_at", "")) if self.manifest else ""
        return started, self.folder_timestamp


class IntegrityChecker:
    """Checks each folder once; an audit asks about the same folder from many rows."""

    def __init__(self, keys: dict | None = None) -> None:
        self._cache: dict[Path, FolderCheck] = {}
        self._folders: dict[tuple[str, str], Path | None] = {}
        self._has_manifest: dict[str, bool] = {}
        self._walks: dict[tuple[str, str], str | None] = {}
        self._dirs: dict[
            str, bool
        ] = {}  # os.path.isdir of each path evidence_folder was asked about
        self._paths: dict[
            str, Path
        ] = {}  # one Path per folder checked or found (hashed once, not rebuilt)
        self._keys = keys
        self.cross: CrossChecker | None = None  # made on first use (it runs git)

    @property
    def keys(self) -> dict:
        if self._keys is None:
            from ledger.running.attest import trusted_keys

            self._keys = trusted_keys()
        return self._keys

    def check(self, folder: Path) -> FolderCheck:
        found = self._cache.get(folder)
        if found is None:
            found = self._cache[folder] = check_folder(folder, self.keys)
            self._paths.setdefault(str(folder), folder)
        return found

    def has_manifest(self, folder: str) -> bool:
        """Does `folder` hold a manifest.json (as os.path.isfile), asked once per folder per audit."""
        found = self._has_manifest.get(folder)
        if found is None:
            found = self._has_manifest[folder] = os.path.isfile(os.path.join(folder, MANIFEST))
        return found

    def adopt(self, checks: Iterable[FolderCheck]) -> None:
        """Checks made elsewhere (a worker of a parallel audit), as if made here."""
        for check in checks:
            self._cache.setdefault(check.folder, check)

    def manifest_folders_below(self, folder: Path) -> list[Path]:
        """`manifest_folders_below`, without a second stat of a path evidence_folder found no folder."""
        if self._dirs.get(str(folder)) is False:
            return []
        return manifest_folders_below(folder)

    def checked(self) -> list[FolderCheck]:
        return list(self._cache.values())

    def checked_manifest(self, folder: Path) -> dict | None:
        """The manifest of a folder already checked (None if not checked or not readable)."""
        check = self._cache.get(folder)
        return check.manifest if check is not None else None

    def evidence_folder(self, path: Path, stop: Path) -> Path | None:
        """`evidence_folder`, remembered per folder: many citations point into the same run."""
        key = (str(path), str(stop))
        if key not in self._folders:
            text = _evidence_folder_text(path, stop, self._has_manifest, self._walks, self._dirs)
            if text is None:
                self._folders[key] = None
            else:
                folder = self._paths.get(text)
                if folder is None:
                    folder = self._paths[text] = Path(text)
                self._folders[key] = folder
        return self._folders[key]


def check_folder(folder: Path, keys: dict | None = None) -> FolderCheck:
    # os.path and open, not pathlib: an audit checks thousands of folders.
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        return FolderCheck(folder, FolderStatus.NO_MANIFEST, None)
    try:
        manifest = json.loads(read_small_file(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return FolderCheck(
            folder,
            FolderStatus.TAMPERED,
            None,
            (f"manifest.json is not valid JSON ({exc.__class__.__name__})",),
        )
    if not isinstance(manifest, dict):
        return FolderCheck(
            folder, FolderStatus.TAMPERED, None, ("manifest.json is not a JSON object",)
        )
    if manifest.get("complete") is not True:
        return FolderCheck(
            folder,
            FolderStatus.INCOMPLETE,
            manifest,
            ("the run never finished writing its evidence (manifest complete=false)",),
        )
    seal_problem, attested_by = check_seal(manifest, keys or {})
    if seal_problem is not None:
        return FolderCheck(folder, FolderStatus.TAMPERED, manifest, (seal_problem,))
    files = manifest.get("files")
    if not isinstance(files, dict):
        return FolderCheck(
            folder, FolderStatus.TAMPERED, manifest, ("manifest.json lists no file hashes",)
        )
    regions = manifest.get("regions", {})
    if not isinstance(regions, dict):
        return FolderCheck(
            folder, FolderStatus.TAMPERED, manifest, ("manifest.json: regions is not an object",)
        )
    problems: list[str] = []
    missing: list[str] = []
    notes_list: list[str] = []
    # One listing of the folder answers "symlink? regular file?" for every name it holds,
    # instead of an lstat and a stat per listed file (thousands per audit).
    listing = _listing(folder)
    folder_text = str(folder)
    for name, expected in sorted({**files, **regions}.items()):
        if not isinstance(name, str) or name.startswith("/") or ".." in name.split("/"):
            problems.append(f"{name}: listed path leaves the report folder")
            continue
        entry = listing.get(name)
        target: Path | str
        if entry is not None:
            target = os.path.join(folder_text, name)
            is_link, is_file = entry.is_symlink(), entry.is_file()
        else:
            # A name the listing lacks (spelled `./x`, or under a linked folder, or absent) is asked of the file system.
            target = folder / name
            is_link, is_file = target.is_symlink(), target.is_file()
        if is_link:
            problems.append(f"{name}: listed path leaves the report folder")
        elif not is_file:
            missing.append(name)
        elif name in regions:
            with open(target, "rb") as handle:
                data = handle.read()
            region = record_region(data)
            if region is None:
                problems.append(
                    f"{name}: ledger's record (between its ledger:record markers) was removed or its markers edited"
                )
            elif hashlib.sha256(region).hexdigest() != expected:
                problems.append(
                    f"{name}: ledger's record (between its ledger:record markers) was edited after the run"
                )
            elif region != data:
                notes_list.append(
                    f"{name}: notes added around ledger's record (allowed; the record is intact)"
                )
        elif sha256_file(target) != expected:
            problems.append(f"{name}: sha256 differs from the manifest (edited after the run)")
    notes = tuple(notes_list) + tuple(
        f"{name}: added after the run (not in the manifest)"
        for name in _files_below(listing)
        if name not in files and name not in regions
    )
    if missing and not problems:
        return FolderCheck(
            folder, FolderStatus.MISSING, manifest, (missing_files_message(folder, missing),), notes
        )
    problems += [f"{name}: listed in the manifest but missing" for name in missing]
    if not problems and SEAL not in manifest:
        return FolderCheck(
            folder,
            FolderStatus.UNSEALED,
            manifest,
            (
                "manifest.json carries no content hash (manifest_sha256): hand-written, or from a ledger before manifest version 2",
            ),
            notes,
        )
    return FolderCheck(
        folder,
        FolderStatus.TAMPERED if problems else FolderStatus.INTACT,
        manifest,
        tuple(problems),
        notes,
        attested_by,
    )


def missing_files_message(folder: Path, missing: list[str]) -> str:
    """What is missing, whether git ever had it, and the fix."""
    import subprocess

    names = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "--", *missing],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=30,
        )
        known = set(tracked.stdout.splitlines()) if tracked.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        known = None
    if known is None:
        return f"files missing on this clone: {names} (listed in the manifest; none present was edited)"
    deleted = [name for name in missing if name in known]
    if deleted:
        return (
            f"files missing on this clone: {names} (committed, deleted from the work tree; "
            f"fix: git checkout -- <those files> in {folder.name}/)"
        )
    return (
        f"files missing on this clone (never committed): {names}; none present was edited. Fix: on the machine "
        f"that ran it, `git add -f` those files of this folder and commit and push them "
        f"(`ledger do --commit` commits every file of its manifest, ignored ones included)"
    )


def check_seal(manifest: dict, keys: dict) -> tuple[str | None, str | None]:
    """(what is wrong with the manifest's own hash and attestation or None, the attesting key id or None)."""
    seal = manifest.get(SEAL)
    version = manifest.get("version")
    if seal is None:
        if isinstance(version, int) and version >= MANIFEST_VERSION:
            return (
                f"manifest.json says version {version} but its content hash (manifest_sha256) was removed",
                None,
            )
        return None, None  # unsealed: reported by the caller once its files are checked
    import hashlib
    import hmac

    payload = manifest_payload(manifest)
    if not isinstance(seal, str) or not hmac.compare_digest(
        seal, hashlib.sha256(payload).hexdigest()
    ):
        return (
            "manifest.json: edited after it was written (its fields no longer match its manifest_sha256)",
            None,
        )
    attestation = manifest.get(ATTESTATION)
    if attestation is None:
        return None, None
    if not isinstance(attestation, dict) or not isinstance(attestation.get("key_id"), str):
        return "manifest.json: malformed attestation", None
    key = keys.get(attestation["key_id"])
    if key is None:
        return None, None  # signed with a key this machine does not hold: cannot be checked here
    if not hmac.compare_digest(str(attestation.get("hmac_sha256", "")), key.sign(payload)):
        return (
            f"manifest.json: attestation by key {attestation['key_id']} does not match (rewritten without the key)",
            None,
        )
    return None, attestation["key_id"]


def _listing(folder: Path) -> dict[str, os.DirEntry]:
    """Every entry under `folder` by its relative POSIX name (linked folders are not entered)."""
    found: dict[str, os.DirEntry] = {}
    pending = [(str(folder), "")]
    while pending:
        current, prefix = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                relative = prefix + entry.name
                found[relative] = entry
                # DirEntry answers from the directory listing: no stat per file.
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, relative + "/"))
    return found


def _files_below(listing: dict[str, os.DirEntry]) -> list[str]:
    """Relative POSIX names of the regular files of a `_listing`, the manifest excepted."""
    return sorted(
        name
        for name, entry in listing.items()
        if not entry.is_dir(follow_symlinks=False) and name != MANIFEST and entry.is_file()
    )


def evidence_folder(
    path: Path, stop: Path, has_manifest: dict[str, bool] | None = None
) -> Path | None:
    """The nearest folder at or above `path` (below `stop`) that holds a manifest.

    `has_manifest` remembers each folder's answer: citations of sibling files walk the same parents.
    """
    found = _evidence_folder_text(path, stop, has_manifest if has_manifest is not None else {})
    return Path(found) if found is not None else None


def _evidence_folder_text(
    path: Path,
    stop: Path,
    known: dict[str, bool],
    walks: dict[tuple[str, str], str | None] | None = None,
    dirs: dict[str, bool] | None = None,
) -> str | None:
    """`evidence_folder` as text; `walks` remembers the answer per starting folder (the files
    of one folder, cited one by one, walk the same parents); `dirs` receives whether `path`
    is a folder."""
    stop_text = str(stop).rstrip(os.sep)
    path_text = str(path)
    is_dir = os.path.isdir(path_text)
    if dirs is not None:
        dirs[path_text] = is_dir
    start = path_text if is_dir else os.path.dirname(path_text)
    key = (start, stop_text)
    if walks is not None and key in walks:
        return walks[key]
    result = None
    current = start
    while current.startswith(stop_text + os.sep):
        found = known.get(current)
        if found is None:
            found = known[current] = os.path.isfile(os.path.join(current, MANIFEST))
        if found:
            result = current
            break
        current = os.path.dirname(current)
    if walks is not None:
        walks[key] = result
    return result


def manifest_folders_below(folder: Path) -> list[Path]:
    """Manifest folders one level down: a cited `reports/<TS>/` covers its `<slug>/` runs."""
    if not folder.is_dir():
        return []
    return sorted(
        child for child in folder.iterdir() if child.is_dir() and (child / MANIFEST).is_file()
    )
