"""Shell completion of initiative and row arguments (Click's completion protocol)."""

from __future__ import annotations


def _workspace(ctx):
    from ledger.workspace import Workspace

    root = ctx.params.get("root")
    try:
        return Workspace.open(root)
    except Exception:  # completion must never print a traceback into the shell
        return None


def complete_initiative(ctx, param, incomplete):
    ws = _workspace(ctx)
    if ws is None:
        return []
    return [name for name in ws.initiatives() if name.startswith(incomplete)]


def complete_row(ctx, param, incomplete):
    ws = _workspace(ctx)
    initiative = ctx.params.get("initiative")
    if ws is None or not initiative:
        return []
    try:
        rows = ws.rows(initiative)
    except Exception:
        return []
    ids = []
    for row in rows:
        if row.ref.startswith(incomplete) and row.ref not in ids:
            ids.append(row.ref)
    return ids
