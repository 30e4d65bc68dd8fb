"""`ledger next`: the row a loop should work on now.

Plan order: initiatives as `status` lists them, then each initiative's plan files and the
ledger's own TODO rows, rows top to bottom. A row is open when its state is open or
partial. `Depends on:` is honoured at two levels:

- a row whose guidance or description says `Depends on: A1, B.B2` (rows of the same
  initiative, or `OTHER-001.A1`) waits until each of those rows is done;
- an initiative whose ledger item has a `Depends on: OTHER-001` field waits until every row
  of OTHER-001 is done; an item whose `Status:` is blocked or done is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.documents.fix_plan import ItemStatus
from ledger.documents.plan import Row
from ledger.documents.states import RowState
from ledger.errors import BadInput
from ledger.workspace import Workspace

_DEPENDS = re.compile(r"depends\s+on\s*:\s*(?P<list>[^.;|\n]*)", re.IGNORECASE)
# An item is skipped for a status `ledger item` writes or a word real ledgers use alike.
_SKIPPED_STATUSES = (ItemStatus.BLOCKED, ItemStatus.DONE, "complete", "completed", "archived")


@dataclass
class NextRow:
    initiative: str
    row: Row
    depends_on: list[str] = field(default_factory=list)


@dataclass
class NextAnswer:
    found: NextRow | None
    waiting: list[tuple[str, str, list[str]]] = field(
        default_factory=list
    )  # (initiative, row ref, unmet)
    skipped_items: list[tuple[str, str]] = field(default_factory=list)  # (initiative, status)


def depends_on(text: str) -> list[str]:
    """The names a `Depends on: …` clause lists (`none` lists nothing)."""
    names: list[str] = []
    for match in _DEPENDS.finditer(text or ""):
        for part in re.split(r"[,\s]+(?:and\s+)?", match.group("list").replace("`", " ")):
            part = part.strip(" *_()[]")
            if part and part.lower() not in ("none", "n/a", "-", "and"):
                names.append(part)
    return names


def _row_done(ws: Workspace, initiative: str, reference: str) -> bool | None:
    """Whether the row `reference` (in `initiative`, or `OTHER-001.A1`) is done; None when unknown."""
    target_initiative, ref = initiative, reference
    head, dot, tail = reference.partition(".")
    if dot and head in ws.initiatives():
        target_initiative, ref = head, tail
    try:
        return ws.find_row(target_initiative, ref).state == RowState.DONE
    except BadInput:
        return None


def _initiative_done(ws: Workspace, initiative: str) -> bool | None:
    if initiative not in ws.initiatives():
        return None
    rows = ws.rows(initiative)
    return bool(rows) and all(row.state == RowState.DONE for row in rows)


def next_row(ws: Workspace, initiative: str | None = None) -> NextAnswer:
    if initiative is not None:
        ws.check_initiative_id(initiative)
        if initiative not in ws.initiatives():
            raise BadInput(
                f"unknown initiative {initiative!r} (initiatives: {', '.join(ws.initiatives()) or 'none'})"
            )
    doc = ws.ledger_doc()
    answer = NextAnswer(None)
    for name in [initiative] if initiative else ws.initiatives():
        item = doc.items.get(name) if doc is not None else None
        if item is not None:
            status = item.fields.get("Status", (0, ""))[1].strip(" `*_").lower()
            if initiative is None and status.split()[:1] and status.split()[0] in _SKIPPED_STATUSES:
                answer.skipped_items.append((name, status))
                continue
            needed = (
                depends_on("Depends on: " + item.fields["Depends on"][1])
                if "Depends on" in item.fields
                else []
            )
            unmet = [other for other in needed if not _initiative_done(ws, other)]
            if unmet:
                answer.waiting.append((name, "*", unmet))
                continue
        for row in ws.rows(name):
            if row.state not in (RowState.OPEN, RowState.PARTIAL):
                continue
            needed = depends_on(row.guidance) + depends_on(row.description)
            unmet = [ref for ref in needed if not _row_done(ws, name, ref)]
            if unmet:
                answer.waiting.append((name, row.ref, unmet))
                continue
            answer.found = NextRow(name, row, needed)
            return answer
    return answer


def next_row_data(ws: Workspace, answer: NextAnswer) -> dict:
    """What `ledger next` prints or dumps as JSON: the row (None when nothing is left), the
    rows waiting on others and the items skipped for their status."""
    from ledger.running.selector import find_selectors

    waiting = [{"initiative": i, "row": r, "waiting_for": unmet} for i, r, unmet in answer.waiting]
    if answer.found is None:
        skipped = [{"initiative": i, "status": s} for i, s in answer.skipped_items]
        return {"next": None, "waiting": waiting, "skipped_items": skipped}
    found = answer.found
    row = found.row
    selectors = find_selectors(row.guidance) or find_selectors(row.description)
    data = {
        "initiative": found.initiative,
        "row": row.ref,
        "id": row.id,
        "state": row.state,
        "state_token": row.state_token,
        "description": row.description,
        "file": ws.relative(row.path),
        "line": row.line,
        "phase": row.phase.title if row.phase else None,
        "selector": selectors[0] if selectors else None,
        "depends_on": found.depends_on,
        "waiting": waiting,
    }
    return {"next": data, **data}
