"""Half-recorded runs: a `do` killed between flipping its row and appending its attempt, and
abandoned runs: a `do` killed before it began recording (while its tests ran).

Before `do` touches the plan and the ledger it writes a journal (`ledger.pending.json`
beside the lock file: `.git/` in a repository, the workspace root outside one) saying what
the record will write: the complete manifest, the row's new state and note, and the
attempt's template context.
It removes the journal once both are written. A journal found later means a `do` died
half-way: `ledger repair` (run automatically by the next writing command, under the lock)
completes the record from it, writing only what is missing, and `audit` reports it until then.

Before the journal exists a killed `do` has touched neither the plan nor the ledger, only its
report folder (manifest `"complete": false`). So that such a folder is never mistaken for a
run still in progress, every `do` registers itself first: a file `<run id>.run` in
`ledger.runs/` beside the lock (`.ledger.runs/` at the root outside git), locked with
flock(2) for as long as the process lives, naming the report folder (and its staging
folder) before that folder appears. The kernel drops the lock when the process dies however it
dies, so an unlocked registration is a dead run: repair removes its staging folder, marks its
report folder's manifest `"abandoned"` (still `"complete": false`: never counted as
evidence, its log kept for whoever wants to know why it died) and removes the registration.
`ledger repair` also marks abandoned the incomplete `ledger do` folders no live run owns that
older versions left unregistered.

Test hook: LEDGER_FAULT_AT=<step> makes `do` exit at once (os._exit) at that step:
EARLY_FAULT_STEPS before the journal (run-registered, report-claimed, report-created,
tests-ran), FAULT_STEPS of the record (record-start, after-manifest, after-row, after-note,
after-attempt).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ledger.errors import LedgerError

try:
    import fcntl
except ImportError:  # no flock(2): runs are not registered; `ledger repair` sweeps their folders
    fcntl = None  # type: ignore[assignment]

JOURNAL_NAME = "ledger.pending.json"
RUNS_NAME = "ledger.runs"
# What to do with a journal repair cannot complete (repair's refusal and audit's issue say it).
BY_HAND = "check the row and the ledger by hand, then delete the journal"
FAULT_STEPS = ("record-start", "after-manifest", "after-row", "after-note", "after-attempt")
EARLY_FAULT_STEPS = ("run-registered", "report-claimed", "report-created", "tests-ran")


def journal_path(root: Path) -> Path:
    from ledger.editing.locking import lock_path

    lock = lock_path(root)
    return lock.parent / (JOURNAL_NAME if lock.parent != root else "." + JOURNAL_NAME)


def fault_point(step: str) -> None:
    """Die here when LEDGER_FAULT_AT names this step (a test hook for crash consistency)."""
    if os.environ.get("LEDGER_FAULT_AT") == step:
        os._exit(137)


def write_journal(root: Path, entry: dict) -> None:
    from ledger.editing.writes import write_bytes_atomic

    write_bytes_atomic(
        journal_path(root), (json.dumps(entry, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    )


def clear_journal(root: Path) -> None:
    try:
        journal_path(root).unlink()
    except FileNotFoundError:
        pass


def read_journal(root: Path) -> dict | None:
    try:
        data = json.loads(journal_path(root).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def repair(ws, sweep: bool = False) -> list[str]:
    """Complete a half-recorded run from the journal, then mark abandoned the report folders of
    dead runs (`sweep`: also the incomplete `ledger do` folders no live run owns); returns what
    was done (empty: nothing pending). The caller holds the workspace lock."""
    done = complete_journal(ws)
    done += abandon_dead_runs(ws.root)  # `do` and `verify` runs both register
    if sweep:
        done += abandon_unowned_folders(ws)
    return done


def complete_journal(ws) -> list[str]:
    entry = read_journal(ws.root)
    if entry is None:
        if journal_path(ws.root).exists():
            clear_journal(ws.root)  # unreadable: written half-way, so nothing was touched yet
        return []
    from ledger.documents.fix_plan import LedgerLayout, parse_ledger
    from ledger.documents.plan import RowKind
    from ledger.documents.states import RowState
    from ledger.editing.bookkeeping import add_attempt, change_row
    from ledger.markdown.table import escape_cell_text
    from ledger.markdown.text import SourceText
    from ledger.render import Renderer
    from ledger.running.evidence import read_manifest, write_manifest

    unusable = unusable_entry(entry, ws.root)
    if unusable:
        raise LedgerError(
            f"the journal of a half-recorded run {unusable}, so the run cannot be completed "
            f"from it; {BY_HAND}",
            journal_path(ws.root),
        )
    done: list[str] = []
    folder = ws.root / entry["folder"]
    initiative = entry["initiative"]
    context = entry["context"]
    current = read_manifest(folder)
    if isinstance(entry.get("manifest"), dict) and (
        current is None or current.get("complete") is not True
    ):
        write_manifest(folder, entry["manifest"])
        done.append("manifest completed")
    if entry.get("new_state"):
        state = RowState(entry["new_state"])
        ws.reload_path(ws.root / entry["plan"])
        row = next(
            (
                r
                for r in ws.rows(initiative)
                if r.id == entry["row"]
                and ws.relative(r.path) == entry["plan"]
                and (r.phase.key if r.phase else None) == entry.get("phase")
            ),
            None,
        )
        if row is None:
            raise LedgerError(
                f"the journal of a half-recorded run names row {entry['row']} of {entry['plan']}, "
                f"which is no longer there; {BY_HAND}",
                journal_path(ws.root),
            )
        note = entry["note"]
        written = (
            escape_cell_text(note.strip()) if row.kind == RowKind.TABLE else " ".join(note.split())
        )
        if not (row.state == state and row.guidance.rstrip().endswith(written)):
            change = change_row(ws, row, state, note, replacing=entry.get("replacing"))
            done.append(f"row {row.id} -> {entry['new_state']}")
            manifest = read_manifest(folder)
            if manifest is not None and change.note and manifest.get("row_note") != change.note:
                write_manifest(folder, {**manifest, "row_note": change.note})
    cited = entry["folder"].rstrip("/")
    short = context.get("artifacts_from_initiative", "").rstrip("/")
    ledger_doc = parse_ledger(SourceText.read(ws.ledger_path)) if ws.ledger_path.exists() else None
    recorded = ledger_doc is not None and any(
        cited in a.text or (short and short in a.text) for a in ledger_doc.attempts_for(initiative)
    )
    if not recorded:
        renderer = Renderer(ws.templates_dir)
        attempt = add_attempt(
            ws,
            initiative,
            lambda number, layout, style: renderer.render_lines(
                "attempt_global.md.j2" if layout == LedgerLayout.GLOBAL else "attempt.md.j2",
                **context,
                **style,
                number=number,
            ),
            item_title=entry.get("item_title"),
            number=entry.get("attempt_number"),
            fall_back=True,
        )
        done.append(f"attempt #{attempt.number} of {initiative}")
    clear_journal(ws.root)
    return [
        f"completed the half-recorded run {entry['folder']}: "
        + ", ".join(done or ["nothing was missing"])
    ]


def unusable_entry(entry: dict, root: Path) -> str | None:
    """Why a journal cannot be completed (a hand-made or damaged one: ledger writes it whole),
    or None."""
    from ledger.documents.citations import is_inside
    from ledger.documents.states import RowState

    for key, kind in (("folder", str), ("initiative", str), ("context", dict)):
        if not isinstance(entry.get(key), kind):
            return f"names no {key}"
    if entry.get("new_state"):
        for key in ("plan", "row", "note"):
            if not isinstance(entry.get(key), str):
                return f"flips a row but names no {key}"
        if entry["new_state"] not in {state.value for state in RowState}:
            return f"names an unknown row state {entry['new_state']!r}"
    if not is_inside(root, root / entry["folder"]):
        return f"names a report folder outside the workspace ({entry['folder']})"
    return None


def repair_at(root: Path) -> list[str]:
    """`repair` for a workspace root, quietly skipping when there is nothing pending (one
    stat and one listing: every writing command calls it)."""
    if not journal_path(root).exists():
        return abandon_dead_runs(root)
    from ledger.workspace import Workspace

    return repair(Workspace.open(root))


def runs_folder(root: Path) -> Path:
    from ledger.editing.locking import lock_path

    lock = lock_path(root)
    return lock.parent / (RUNS_NAME if lock.parent != root else "." + RUNS_NAME)


class RunClaim:
    """One `ledger do` in flight: its registration file, flock-ed while this process lives.

    Use as a context manager: leaving it releases the lock; `finish()` (once the run is
    recorded) also removes the file. A run that never finishes leaves the file unlocked, and
    the next repair marks its report folder abandoned."""

    def __init__(self, root: Path, path: Path | None, handle, token: str):
        self.root, self.path, self._handle, self.token = root, path, handle, token

    @classmethod
    def start(cls, root: Path) -> RunClaim:
        token = secrets.token_hex(8)
        if fcntl is None:
            return cls(root, None, None, token)
        folder = runs_folder(root)
        folder.mkdir(exist_ok=True)
        descriptor, temp = tempfile.mkstemp(prefix=f".{token}.", suffix=".tmp", dir=folder)
        handle = os.fdopen(descriptor, "r+b", buffering=0)
        try:
            # Locked before it gets its name: no repair ever sees it named and unlocked.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            path = folder / f"{token}.run"
            os.rename(temp, path)
        except BaseException:
            handle.close()
            Path(temp).unlink(missing_ok=True)
            raise
        return cls(root, path, handle, token)

    def claim(self, folder: Path, staging: Path) -> None:
        """Name the report folder (and its staging folder) before it appears; a retry under
        another name appends another line."""
        if self._handle is None:
            return
        line = {
            "folder": _relative(self.root, folder),
            "staging": _relative(self.root, staging),
            "pid": os.getpid(),
        }
        self._handle.write((json.dumps(line) + "\n").encode("utf-8"))

    def finish(self) -> None:
        """The run is recorded: nothing is left to repair."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunClaim:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _lock_if_dead(path: Path):
    """An open handle holding the registration's lock when its process is gone, else None."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - returned open: the handle holds the lock
    except OSError:
        return None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held: the run is alive (or this very process is it)
        handle.close()
        return None
    return handle


def _claimed_folders(data: bytes) -> list[dict]:
    lines = []
    for raw in data.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue  # a line cut short by the kill: its folder was never renamed into place
        if isinstance(line, dict) and isinstance(line.get("folder"), str):
            lines.append(line)
    return lines


def live_run_folders(root: Path) -> set[str]:
    """Report folders (relative to the root) that a running `ledger do` is writing."""
    folder = runs_folder(root)
    if fcntl is None or not folder.is_dir():
        return set()
    live: set[str] = set()
    for path in sorted(folder.glob("*.run")):
        handle = _lock_if_dead(path)
        if handle is not None:
            handle.close()
            continue
        try:
            live.update(line["folder"].rstrip("/") for line in _claimed_folders(path.read_bytes()))
        except OSError:
            continue
    return live


ABANDONED_WHY = "the ledger do writing it was killed before it recorded its run"


def _killed_why(manifest: dict) -> str:
    tool = manifest.get("tool")
    return ABANDONED_WHY.replace("ledger do", tool) if tool == "ledger verify" else ABANDONED_WHY


def mark_abandoned(folder: Path, manifest: dict, why: str = ABANDONED_WHY) -> None:
    """Keep the folder and its log, say in its manifest that it will never be complete, and
    drop the tests' tmp_path files (`basetemp/`), which are not evidence."""
    from ledger.running.evidence import remove_basetemp, write_manifest

    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_manifest(folder, {**manifest, "complete": False, "abandoned": {"at": at, "why": why}})
    remove_basetemp(folder)


def abandon_dead_runs(root: Path) -> list[str]:
    """Clear the registrations of `ledger do` and `ledger verify` runs that died before
    recording. Call holding the workspace lock."""
    folder = runs_folder(root)
    if fcntl is None or not folder.is_dir():
        return []
    from ledger.running.evidence import read_manifest

    done: list[str] = []
    for path in sorted(folder.iterdir()):
        if not (path.name.endswith(".run") or path.name.endswith(".tmp")):
            continue
        handle = _lock_if_dead(path)
        if handle is None:
            continue
        with handle:
            token = path.name[: -len(".run")] if path.name.endswith(".run") else None
            for line in _claimed_folders(handle.read()) if token else []:
                staging = (
                    root / line.get("staging", "") if isinstance(line.get("staging"), str) else None
                )
                if (
                    staging is not None
                    and staging != root
                    and staging.is_dir()
                    and not staging.is_symlink()
                ):
                    shutil.rmtree(staging, ignore_errors=True)
                report = root / line["folder"]
                manifest = read_manifest(report)
                if (
                    manifest is None
                    or manifest.get("run_id") != token
                    or manifest.get("complete") is True
                ):
                    continue  # not this run's folder (another process took the name), or recorded
                if "abandoned" not in manifest:
                    mark_abandoned(report, manifest, _killed_why(manifest))
                    done.append(
                        f"marked abandoned the run {line['folder'].rstrip('/')}/: {_killed_why(manifest)}"
                    )
            path.unlink(missing_ok=True)
    return done


def abandon_unowned_folders(ws) -> list[str]:
    """Incomplete `ledger do` and `ledger verify` folders that no running one owns (left by a
    version that did not register its runs, or where flock is missing): marked abandoned."""
    from ledger.running.evidence import iter_manifests

    if fcntl is None:
        return []  # a live run cannot be told from a dead one here
    live = live_run_folders(ws.root)
    done: list[str] = []
    for initiative in ws.initiatives():
        for folder, manifest in iter_manifests(ws.report_root(initiative)):
            if (
                manifest.get("tool") not in ("ledger do", "ledger verify")
                or manifest.get("complete") is True
                or "abandoned" in manifest
            ):
                continue
            rel = ws.relative(folder)
            if rel in live:
                continue
            tool = manifest["tool"]
            mark_abandoned(
                folder,
                manifest,
                f"a {tool} that never finished writing it (no running {tool} owns it)",
            )
            done.append(
                f"marked abandoned the run {rel}/: no running {tool} owns it and it never finished"
            )
    return done
