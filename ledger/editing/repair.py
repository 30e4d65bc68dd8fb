"""Half-recorded runs: a `do` killed between flipping its row and appending its attempt.

Before `do` touches the plan and the ledger it writes a journal (`ledger.pending.json`
beside the lock file: `.git/` in a repository, the workspace root outside one) saying what
the record will write: the complete manifest, the row's new state and note, and the
attempt's template context.
It removes the journal once both are written. A journal found later means a `do` died
half-way: `ledger repair` (run automatically by the next writing command, under the lock)
completes the record from it, writing only what is missing, and `audit` reports it until then.

Test hook: LEDGER_FAULT_AT=<step> makes `do` exit at once (os._exit) at that step of the
record: record-start, after-manifest, after-row, after-note, after-attempt.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

JOURNAL_NAME = "ledger.pending.json"
FAULT_STEPS = ("record-start", "after-manifest", "after-row", "after-note", "after-attempt")


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

    write_bytes_atomic(journal_path(root), (json.dumps(entry, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


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


def repair(ws) -> list[str]:
    """Complete a half-recorded run from the journal; returns what was done (empty: nothing
    pending). The caller holds the workspace lock."""
    entry = read_journal(ws.root)
    if entry is None:
        if journal_path(ws.root).exists():
            clear_journal(ws.root)  # unreadable: written half-way, so nothing was touched yet
        return []
    from ledger.editing.bookkeeping import add_attempt, change_row
    from ledger.running.evidence import read_manifest, write_manifest
    from ledger.documents.fix_plan import parse_ledger
    from ledger.markdown.table import escape_cell_text
    from ledger.markdown.text import SourceText
    from ledger.render import Renderer
    from ledger.documents.states import DONE, PARTIAL

    done: list[str] = []
    folder = ws.root / entry["folder"]
    initiative = entry["initiative"]
    context = entry["context"]
    current = read_manifest(folder)
    if isinstance(entry.get("manifest"), dict) and (current is None or current.get("complete") is not True):
        write_manifest(folder, entry["manifest"])
        done.append("manifest completed")
    if entry.get("new_state"):
        state = {"done": DONE, "partial": PARTIAL}[entry["new_state"]]
        ws.reload_path(ws.root / entry["plan"])
        row = next(r for r in ws.rows(initiative) if r.id == entry["row"] and ws.relative(r.path) == entry["plan"]
                   and (r.phase.key if r.phase else None) == entry.get("phase"))
        note = entry["note"]
        written = escape_cell_text(note.strip()) if row.kind == "table" else " ".join(note.split())
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
                "attempt_global.md.j2" if layout == "global" else "attempt.md.j2", **context, **style, number=number
            ),
            item_title=entry.get("item_title"),
            number=entry.get("attempt_number"),
            fall_back=True,
        )
        done.append(f"attempt #{attempt.number} of {initiative}")
    clear_journal(ws.root)
    return [f"completed the half-recorded run {entry['folder']}: " + ", ".join(done or ["nothing was missing"])]


def repair_at(root: Path) -> list[str]:
    """`repair` for a workspace root, quietly skipping when there is nothing pending."""
    if not journal_path(root).exists():
        return []
    from ledger.workspace import Workspace

    return repair(Workspace.open(root))
