"""`ledger attempt add`: a numbered attempt added to the ledger by hand, under the lock."""

from __future__ import annotations

from ledger.documents.fix_plan import LedgerLayout, entry_token
from ledger.editing.bookkeeping import AttemptAdded, add_attempt
from ledger.editing.locking import workspace_lock
from ledger.errors import BadInput
from ledger.render import Renderer
from ledger.running.evidence import utc_now
from ledger.workspace import Workspace


def add_manual_attempt(
    ws: Workspace,
    initiative: str,
    summary: str,
    row: str | None,
    artifacts: str | None,
    lock_timeout_s: float,
    number: int | None = None,
    create: bool = False,
) -> AttemptAdded:
    """`create`: allow an initiative with neither a plan folder nor ledger attempts (a typo
    would otherwise invent a ledger item silently)."""
    ws.check_initiative_id(initiative)
    if not summary.strip():
        raise BadInput("--summary must not be empty")
    now = utc_now()
    renderer = Renderer(ws.templates_dir)
    with workspace_lock(ws.root, lock_timeout_s):
        if not create and not initiative_known(ws, initiative):
            known = ", ".join(ws.initiatives()[:20]) or "none"
            raise BadInput(
                f"unknown initiative {initiative!r}: no plan folder and no ledger item (initiatives: {known}); "
                "pass --create to start its ledger item anyway",
                ws.relative(ws.ledger_path),
            )
        row_label = row
        if row:
            found = ws.find_row(initiative, row)
            row, row_label = found.ref, found.label
        context = {
            "date": now.strftime("%Y-%m-%d"),
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timestamp_minutes": now.strftime("%Y-%m-%dT%H:%MZ"),
            "entry_token": entry_token(),
            "initiative": initiative,
            "row": row,
            "row_label": row_label,
            "summary": summary,
            "artifacts": artifacts,
        }
        return add_attempt(
            ws,
            initiative,
            lambda number, layout, style: renderer.render_lines(
                "manual_attempt_global.md.j2"
                if layout == LedgerLayout.GLOBAL
                else "manual_attempt.md.j2",
                **context,
                **style,
                number=number,
            ),
            number=number,
        )


def initiative_known(ws: Workspace, initiative: str) -> bool:
    """A plan folder of that name, or a ledger item (or global-history attempts) for it."""
    if initiative in ws.initiatives():
        return True
    for plan_root in ws.config.plan_roots:
        if (ws.root / plan_root / initiative).is_dir():
            return True
    path = ws.ledger_path
    if not path.exists():
        return False
    from ledger.documents.fix_plan import parse_ledger
    from ledger.markdown.text import SourceText

    doc = parse_ledger(SourceText.read(path))
    return initiative in doc.items or bool(doc.attempts_for(initiative))
