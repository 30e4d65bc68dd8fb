"""`ledger item --status`: a ledger item's `Status:` value set, only that value's bytes changed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.documents.fix_plan import ItemStatus, LedgerLayout, parse_ledger
from ledger.editing.locking import workspace_lock
from ledger.editing.writes import write_atomic
from ledger.errors import BadInput
from ledger.markdown.splice import Splice, apply_splices
from ledger.markdown.text import SourceText, dominant_eol
from ledger.workspace import Workspace

_STATUS_FIELD = re.compile(
    r"^(?P<lead>\s*[*+-]\s+(?:\*\*)?Status(?:\*\*)?\s*:(?:\*\*)?[ \t]*)(?P<value>.*?)(?P<tail>[ \t]*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StatusChange:
    initiative: str
    line: int
    before: str | None
    after: ItemStatus


def set_item_status(
    ws: Workspace, initiative: str, status: str | ItemStatus, lock_timeout_s: float
) -> StatusChange:
    """Set the ledger item's `Status:` field to `status`, changing only the field's value
    (or, when the item has none, inserting `- Status: <status>` under its heading)."""
    try:
        status = ItemStatus(status)
    except ValueError:
        raise BadInput(f"unknown status {status!r}: use one of {', '.join(ItemStatus)}") from None
    ws.check_initiative_id(initiative)
    with workspace_lock(ws.root, lock_timeout_s):
        path = ws.ledger_path
        if not path.is_file():
            raise BadInput("there is no ledger file to hold the item", ws.relative(path))
        source = SourceText.read(path)
        doc = parse_ledger(source)
        item = doc.items.get(initiative)
        if item is None:
            layout = (
                "keeps one global Attempts History, no items"
                if doc.layout == LedgerLayout.GLOBAL
                else "has no such item"
            )
            raise BadInput(
                f"the ledger {layout}: no [{initiative}] item to set a Status on", ws.relative(path)
            )
        lines = source.lines()
        if "Status" in item.fields:
            number = item.fields["Status"][0]
            line = lines[number - 1]
            match = _STATUS_FIELD.match(line.text)
            if match is None:
                raise BadInput(
                    f"[{initiative}]'s Status field is not a `- Status: value` line",
                    ws.relative(path),
                    number,
                )
            before = match.group("value")
            start = line.start + match.start("value")
            splice = Splice(start, start + len(before), status)
        else:
            number, before = item.line + 1, None
            anchor = lines[item.line - 1]
            eol = dominant_eol(lines)
            splice = (
                Splice(anchor.next_start, anchor.next_start, f"- Status: {status}{eol}")
                if anchor.eol
                else Splice(anchor.end, anchor.end, f"{eol}- Status: {status}")
            )
        if before != status:
            write_atomic(path, apply_splices(source.text, [splice]), source.sha256)
            ws.reload_path(path)
        return StatusChange(initiative, number, before, status)
