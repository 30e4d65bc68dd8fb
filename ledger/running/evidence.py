"""Report folders: allocation, manifests and their integrity."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.editing.writes import default_mode, write_bytes_atomic
from ledger.errors import BadInput
from ledger.running.outcome import Outcome

SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H%M%SZ"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z$")
MANIFEST = "manifest.json"
# 2: the manifest carries `manifest_sha256`, a hash over its own fields (and, where this
# machine has a key, an `attestation` HMAC over the same bytes).
MANIFEST_VERSION = 2
# The "tool" of a manifest `ledger verify` wrote: a re-run checking another run, not a run of the row.
VERIFY_TOOL = "ledger verify"
SEAL = "manifest_sha256"
ATTESTATION = "attestation"


@dataclass(frozen=True)
class ReportDir:
    path: Path
    timestamp: str
    slug: str

    @property
    def from_initiative(self) -> str:
        """How plan rows cite it: `reports/<TS>/<slug>/`."""
        return f"reports/{self.timestamp}/{self.slug}/"


def check_slug(slug: str) -> str:
    if not SLUG.match(slug) or ".." in slug:
        raise BadInput(
            f"invalid slug {slug!r}: use lowercase letters, digits, '_', '-', '.' (e.g. phase_d_hardening)"
        )
    return slug


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def phase_slug(row, override: str | None) -> str:
    """The slug of a row's report folder: `override`, else its phase's slug, else `evidence`."""
    if override:
        return override
    if row.phase is not None and row.phase.slug:
        return row.phase.slug
    return "evidence"


def plan_report_dir(
    report_root: Path, slug: str, now: datetime, at: str | None = None
) -> ReportDir:
    """The first `<TS>/<slug>` at or after `now` that does not exist yet.

    `at`: a timestamp folder chosen beforehand (a supervisor's `Artifacts:`, `do --at`); it is
    kept, and a slug already taken there becomes `<slug>-2`, `<slug>-3`, ...
    """
    check_slug(slug)
    if at is not None:
        number = 1
        while True:
            name = slug if number == 1 else f"{slug}-{number}"
            candidate = report_root / at / name
            if not candidate.exists() and not candidate.is_symlink():
                return ReportDir(candidate, at, name)
            number += 1
    moment = now
    while True:
        timestamp = moment.strftime(TIMESTAMP_FORMAT)
        candidate = report_root / timestamp / slug
        if not candidate.exists() and not candidate.is_symlink():
            return ReportDir(candidate, timestamp, slug)
        moment += timedelta(seconds=1)


def create_report_dir(
    workspace_root: Path,
    report_root: Path,
    slug: str,
    now: datetime,
    at: str | None = None,
    run_id: str | None = None,
    claim=None,
) -> ReportDir:
    """Create a new report folder, refusing any path that leaves the workspace.

    The folder appears with a `"complete": false` manifest already inside: it is
    built under a hidden temporary name and renamed into place, so a process
    killed at any moment never leaves a report folder without a manifest.
    `run_id` goes into that manifest; `claim(folder, staging)` is called before the rename
    (a `ledger do` registers the folder as its own before it appears: ledger.editing.repair).
    """
    root = workspace_root.resolve()
    _refuse_escape(root, report_root)
    while True:
        planned = plan_report_dir(report_root, slug, now, at)
        _refuse_escape(root, planned.path.parent)
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        _refuse_escape(root, planned.path.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{slug}.", suffix=".tmp", dir=planned.path.parent))
        try:
            os.chmod(staging, default_mode(directory=True))  # mkdtemp's 0700 ignores the umask
            write_manifest(
                staging,
                {
                    "version": MANIFEST_VERSION,
                    "complete": False,
                    "tool": "ledger do",
                    "started_at": planned.timestamp,
                    **({"run_id": run_id} if run_id else {}),
                },
            )
            if planned.path.exists() or planned.path.is_symlink():
                raise FileExistsError(planned.path)
            if claim is not None:
                claim(planned.path, staging)
            # rename(2) refuses a non-empty target; every report folder holds a manifest.
            os.rename(staging, planned.path)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, FileExistsError) or exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue  # another process took this second; take the next one
            raise
        return planned


# The tests' `--basetemp` (tmp_path files) inside a report folder: ledger.running.selector_policy.
BASETEMP_NAME = "basetemp"


def remove_basetemp(report_dir: Path) -> None:
    """Remove the run's `--basetemp` folder (a real folder inside `report_dir`, never a link)."""
    basetemp = report_dir / BASETEMP_NAME
    if basetemp.is_dir() and not basetemp.is_symlink():
        shutil.rmtree(basetemp, ignore_errors=True)


def _refuse_escape(root: Path, path: Path) -> None:
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise BadInput(f"report folder {path} resolves outside the workspace ({resolved})")


def read_small_file(path: Path | str, last: int | None = None) -> bytes:
    """A file's bytes (its `last` bytes when given) through os.open/os.read: an audit reads
    thousands of small manifests, JUnit reports and log tails, and a buffered file object
    costs more system calls (a terminal test, a seek) and more objects than the read
    itself. Raises OSError."""
    handle = os.open(path, os.O_RDONLY)
    try:
        if last is not None:
            end = os.fstat(handle).st_size
            if end > last:
                os.lseek(handle, end - last, os.SEEK_SET)
        chunks = []
        while chunk := os.read(handle, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(handle)
    return b"".join(chunks)


def sha256_file(path: Path | str) -> str:
    # Unbuffered reads of up to 1 MiB: an audit hashes thousands of small files, and a
    # buffered file object (or hashlib.file_digest's 256 KiB buffer) cost more than the hashing.
    digest = hashlib.sha256()
    handle = os.open(path, os.O_RDONLY)
    try:
        while chunk := os.read(handle, 1 << 20):
            digest.update(chunk)
    finally:
        os.close(handle)
    return digest.hexdigest()


def hash_files(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under `folder` except the manifest."""
    hashes: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != MANIFEST:
            hashes[path.relative_to(folder).as_posix()] = sha256_file(path)
    return hashes


# `summary.md` belongs to the agents too (their prompts prepend a `### Turn Summary` to it):
# the manifest hashes only ledger's own record inside it, the bytes from the begin marker's
# line to the end marker's line (`regions` in the manifest); notes above or below are free.
RECORD_BEGIN = b"<!-- ledger:record begin"
RECORD_END = b"<!-- ledger:record end -->"
NOTES_FILES = ("summary.md",)


def record_region(data: bytes) -> bytes | None:
    """Ledger's record inside a notes file: from the start of the begin marker's line to the
    end of the end marker's line; None unless each marker is there exactly once, in order."""
    if data.count(RECORD_BEGIN) != 1 or data.count(RECORD_END) != 1:
        return None
    start = data.rfind(b"\n", 0, data.index(RECORD_BEGIN)) + 1
    end = data.index(RECORD_END) + len(RECORD_END)
    if end <= start:
        return None
    newline = data.find(b"\n", end)
    return data[start:] if newline < 0 else data[start : newline + 1]


def region_hashes(folder: Path, files: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(`files` without the notes files that hold a ledger record, their record hashes)."""
    regions: dict[str, str] = {}
    kept = dict(files)
    for name in NOTES_FILES:
        path = folder / name
        if name in kept and path.is_file():
            region = record_region(path.read_bytes())
            if region is not None:
                kept.pop(name)
                regions[name] = hashlib.sha256(region).hexdigest()
    return kept, regions


def manifest_payload(manifest: dict) -> bytes:
    """The bytes the seal and the attestation cover: every field but those two, canonically."""
    fields = {k: v for k, v in manifest.items() if k not in (SEAL, ATTESTATION)}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def seal_manifest(manifest: dict, key=None) -> dict:
    """The manifest with its own content hash, and an HMAC when a key is given.

    A one-word edit of a sealed manifest no longer matches its hash; recomputing the hash
    needs only sha256, so the seal catches edits, not a forger who knows the format —
    the attestation (a secret key) and `ledger verify` (a re-run) go further.
    """
    payload = manifest_payload(manifest)
    sealed = {k: v for k, v in manifest.items() if k not in (SEAL, ATTESTATION)}
    sealed[SEAL] = hashlib.sha256(payload).hexdigest()
    if key is not None:
        sealed[ATTESTATION] = {"key_id": key.key_id, "hmac_sha256": key.sign(payload)}
    return sealed


def write_manifest(folder: Path, manifest: dict) -> None:
    """Write the manifest sealed, and attested when this machine has a key (`ledger key init`)."""
    from ledger.running.attest import load_key

    sealed = seal_manifest(manifest, load_key())
    data = json.dumps(sealed, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    write_bytes_atomic(folder / MANIFEST, data.encode("utf-8"))


def read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def timestamp_folders(
    report_root: Path, leftovers: list[Path] | None = None
) -> list[tuple[Path, list[Path]]]:
    """Each `<TS>/` folder under the report root with its sub-folders, both sorted by name.

    One listing per folder (scandir, no stat per entry): audits walk thousands of them.
    `leftovers`, when given, receives from the same listing the temp files and staging
    folders a killed ledger left in the `<TS>/` folders (ledger.editing.tempfiles.leftovers_in).
    """
    try:
        with os.scandir(report_root) as entries:
            stamps = sorted(e.path for e in entries if TIMESTAMP.match(e.name) and e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    if leftovers is not None:
        from ledger.editing.tempfiles import TEMP_NAME
    tree = []
    for stamp in stamps:
        with os.scandir(stamp) as entries:
            listed = list(entries)
        stamp_path = Path(stamp)
        # joinpath of a name: half the cost of parsing each child's whole path again.
        children = sorted(e.name for e in listed if e.is_dir())
        tree.append((stamp_path, [stamp_path.joinpath(name) for name in children]))
        if leftovers is not None:
            leftovers += sorted(
                Path(e.path) for e in listed if TEMP_NAME.match(e.name) and not e.is_symlink()
            )
    return tree


def run_folders(tree: list[tuple[Path, list[Path]]], has_manifest=None):
    """Every `<TS>/<slug>/` folder of a `timestamp_folders` tree that holds a manifest.json, oldest first.
    `has_manifest(folder text)`: a caller's remembered answer (the audit asks it again later)."""
    for _, children in tree:
        for slug_dir in children:
            # `.slug.*.tmp`: a folder still being created (or abandoned by a killed process).
            if slug_dir.name.startswith("."):
                continue
            if (
                has_manifest(str(slug_dir))
                if has_manifest is not None
                else os.path.isfile(os.path.join(slug_dir, MANIFEST))
            ):
                yield slug_dir


def iter_manifests(report_root: Path):
    """(report folder, manifest) for every readable `<TS>/<slug>/manifest.json`, oldest first."""
    for folder in run_folders(timestamp_folders(report_root)):
        manifest = read_manifest(folder)
        if manifest is not None:
            yield folder, manifest


def row_manifests(
    report_root: Path, row_id: str, source: str | None = None
) -> list[tuple[Path, dict]]:
    """Manifests recorded for one row, oldest first."""
    found = []
    for folder, manifest in iter_manifests(report_root):
        if manifest.get("row") != row_id or manifest.get("tool") == "ledger verify":
            continue  # a `ledger verify` re-run checks a run; it is not one of the row's runs
        if source is not None and manifest.get("plan") not in (None, source):
            continue
        found.append((folder, manifest))
    return found


def counts_for_baseline(manifest: dict, selector: str | None) -> bool:
    """A complete passing run of `selector` (None: any): the only runs statistics and guardrails use.
    A failed, skipped or errored run, or one of another selector, times something else."""
    return (
        manifest.get("complete") is True
        and manifest.get("outcome") == Outcome.PASSED
        and isinstance(manifest.get("duration_s"), (int, float))
        and (selector is None or manifest.get("selector") == selector)
    )
