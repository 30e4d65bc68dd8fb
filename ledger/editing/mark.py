"""`ledger mark`: a row's state set by hand, under the lock, with an optional note."""

from __future__ import annotations

from ledger.editing.bookkeeping import RowChange, change_row
from ledger.editing.locking import workspace_lock
from ledger.errors import BadInput
from ledger.render import Renderer
from ledger.running.evidence import utc_now
from ledger.workspace import Workspace


def mark_row(
    ws: Workspace,
    initiative: str,
    reference: str,
    state: str,
    note: str | None,
    lock_timeout_s: float,
) -> RowChange:
    try:
        new_state = ws.config.states.parse_user_state(state)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with workspace_lock(ws.root, lock_timeout_s):
        row = ws.find_row(initiative, reference)
        rendered = None
        if note:
            rendered = (
                Renderer(ws.templates_dir)
                .render(
                    "mark_note.md.j2",
                    date=utc_now().strftime("%Y-%m-%d"),
                    state_token=ws.config.states.token_for(new_state),
                    note=note,
                )
                .strip()
            )
        return change_row(ws, row, new_state, rendered)
