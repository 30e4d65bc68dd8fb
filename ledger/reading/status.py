"""`ledger status`: initiatives, phases and rows with their states, as plain data the CLI prints.

`row_data` is one row as both `status` and `show` give it. Nothing here reads runs or
selectors, so `status` stays light (see bench_startup).
"""

from __future__ import annotations

from collections import Counter

from ledger.documents.plan import Row
from ledger.documents.states import RowState
from ledger.workspace import Workspace


def _counts(rows: list[Row]) -> dict[str, int]:
    counter = Counter(row.state or "unknown" for row in rows)
    return {
        "rows": len(rows),
        **{state: counter[state] for state in (RowState.DONE, RowState.PARTIAL, RowState.OPEN)},
        "unknown": counter["unknown"],
    }


def row_data(ws: Workspace, row: Row) -> dict:
    return {
        "id": row.id,  # `L<line>` for a checklist item with no id of its own (has_id false)
        "has_id": row.has_id,
        # What show, mark, do and brief accept for this row: its id when unique, else
        # `C.C1`, `phase_1_checklist.md:0.A` or `implementation.md#L132`.
        "ref": row.ref,
        "description": row.description,
        "state": row.state,
        "token": row.state_token,
        "kind": row.kind,
        "file": ws.relative(row.path),
        "line": row.line,
    }


def initiative_status(ws: Workspace, initiative: str) -> dict:
    plans = ws.plans(initiative)
    phases = []
    for plan in plans:
        by_phase: dict[int, list[Row]] = {}
        for row in plan.rows:
            by_phase.setdefault(row.phase.line if row.phase else 0, []).append(row)
        for line, rows in by_phase.items():
            phase = rows[0].phase
            phases.append(
                {
                    "key": phase.key if phase else None,
                    "title": phase.title if phase else "(no heading)",
                    "file": ws.relative(plan.path),
                    "line": line,
                    "counts": _counts(rows),
                    "rows": [row_data(ws, row) for row in rows],
                }
            )
    all_rows = [row for plan in plans for row in plan.rows]
    return {
        "initiative": initiative,
        "plans": [ws.relative(plan.path) for plan in plans],
        "counts": _counts(all_rows),
        "phases": phases,
        "diagnostics": [str(d) for plan in plans for d in plan.diagnostics],
    }


def workspace_status(ws: Workspace, initiative: str | None = None) -> dict:
    initiatives = [initiative] if initiative else ws.initiatives()
    if initiative:
        ws.initiative_dir(initiative)
    return {
        "root": str(ws.root),
        "initiatives": [initiative_status(ws, name) for name in initiatives],
    }
