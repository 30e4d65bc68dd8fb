"""The two edits ledger makes to a team's Markdown: a row's state, an attempt.

Each re-reads its file, locates its target afresh, splices only the bytes
that change and writes atomically, refusing if the file moved underneath.
Callers hold the workspace lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.documents.fix_plan import (
    LedgerDoc,
    LedgerLayout,
    append_attempt,
    checklist_rows,
    next_number_with_archives,
    parse_ledger,
)
from ledger.documents.plan import Row, RowKind, parse_plan
from ledger.documents.states import RowState
from ledger.editing.writes import write_atomic
from ledger.errors import BadInput
from ledger.markdown.splice import Splice, apply_splices
from ledger.markdown.table import escape_backticks, escape_cell_text
from ledger.markdown.text import SourceText
from ledger.workspace import Workspace


@dataclass(frozen=True)
class RowChange:
    path: Path
    line: int
    state_before: RowState | None
    token_before: str
    state_after: RowState | None
    token_after: str
    note: str | None = None  # the note exactly as written into the row, if one was


def _rows_in(ws: Workspace, source: SourceText, row: Row) -> list[Row]:
    """The rows of `row`'s file read the way `row` was: a plan, or the ledger's checklist."""
    if row.kind != RowKind.TODO:
        return parse_plan(source, ws.config.states).rows
    initiative = (row.subject or "").removesuffix("." + row.id)
    return checklist_rows(parse_ledger(source), ws.config.states, initiative)


def _locate(rows: list[Row], row: Row) -> Row:
    """The same row in a fresh parse: same id and phase, nearest line."""
    same = [
        r
        for r in rows
        if r.id == row.id
        and (r.phase.key if r.phase else None) == (row.phase.key if row.phase else None)
    ]
    if not same:
        raise BadInput(f"row {row.id} is gone from the plan (edited while ledger ran?)", row.path)
    return min(same, key=lambda r: abs(r.line - row.line))


def change_row(
    ws: Workspace,
    row: Row,
    new_state: RowState | None,
    note: str | None,
    replacing: str | None = None,
) -> RowChange:
    """Set `row`'s state token and/or append `note` to its guidance.

    `replacing`: a note ledger wrote earlier; when the guidance still ends with it, `note`
    takes its place instead of piling up after it (a row shows its newest run; the ledger
    keeps every attempt).

    Another program's edit to the file while this one is written is kept: the change is
    planned again on the newer content (edit.write_atomic)."""
    source = SourceText.read(row.path)
    new_text, change = _plan_row_change(ws, row, source, new_state, note, replacing)
    if new_text is not None:

        def replan(text: str, sha256: str) -> str | None:
            nonlocal change
            again, change = _plan_row_change(
                ws, row, SourceText(row.path, text, sha256), new_state, note, replacing
            )
            return again

        write_atomic(ws.write_target(change.path), new_text, source.sha256, replan=replan)
        ws.reload_path(change.path)
    return change


def _plan_row_change(
    ws: Workspace,
    row: Row,
    source: SourceText,
    new_state: RowState | None,
    note: str | None,
    replacing: str | None,
) -> tuple[str | None, RowChange]:
    """The new text of `row`'s file with the change made (None: nothing to change), and the change."""
    rows = _rows_in(ws, source, row)
    fresh = _locate(rows, row)
    splices: list[Splice] = []
    token_after = fresh.state_token
    if new_state is not None:
        if new_state != fresh.state:
            token_after = _token_in_use(rows, fresh, new_state) or ws.config.states.token_for(
                new_state
            )
        if not fresh.state_token:
            raise BadInput(f"row {fresh.id} has no state token to change", fresh.path, fresh.line)
        if token_after != fresh.state_token:
            splices.append(Splice(*fresh.state_span, token_after))
    note_splice = None
    if note:
        # Stripped before escaping: a trailing line break would become a trailing space that
        # the cell's text does not hold, so the next run could not find its note to replace.
        safe = (
            escape_cell_text(note.strip())
            if fresh.kind == RowKind.TABLE
            else " ".join(note.split())
        )
        start, end = fresh.guidance_span
        if safe.strip():
            note_splice = _note_splice(source.text[start:end], start, end, safe, replacing)
    if splices or note_splice:
        new_text = apply_splices(source.text, splices + ([note_splice] if note_splice else []))
        if not _only_target_changed(source, new_text, fresh, ws):
            # Backticks in the note paired with ones already in the row: escape them all.
            if note_splice is not None and fresh.kind == RowKind.TABLE:
                note_splice = Splice(
                    note_splice.start, note_splice.end, escape_backticks(note_splice.text)
                )
                new_text = apply_splices(source.text, splices + [note_splice])
            if not _only_target_changed(source, new_text, fresh, ws):
                raise BadInput(
                    f"editing row {fresh.id} would change other rows or cells; nothing written",
                    fresh.path,
                    fresh.line,
                )
    else:
        new_text = None
    return new_text, RowChange(
        path=fresh.path,
        line=fresh.line,
        state_before=fresh.state,
        token_before=fresh.state_token,
        state_after=new_state if new_state is not None else fresh.state,
        token_after=token_after,
        note=note_splice.text.lstrip(" ") if note_splice else None,
    )


def _note_splice(guidance: str, start: int, end: int, note: str, replacing: str | None) -> Splice:
    """Append `note` to the guidance at [start, end), or put it in place of `replacing` when
    the guidance ends with that note as a separate word run (never half of a human word)."""
    if replacing and guidance.endswith(replacing):
        cut = end - len(replacing)
        if cut == start or guidance[cut - start - 1].isspace():
            return Splice(cut, end, note)
    return Splice(end, end, (" " if end > start else "") + note)


def _token_in_use(rows: list[Row], target: Row, state: RowState) -> str | None:
    """The token this file already writes for `state` in other rows like `target` (a table
    that marks done rows `[D]` keeps getting `[D]`), the most common one; None when none does."""
    tokens = Counter(
        r.state_token
        for r in rows
        if r is not target and r.kind == target.kind and r.state == state
    )
    return tokens.most_common(1)[0][0] if tokens else None


def _only_target_changed(source: SourceText, new_text: str, target: Row, ws: Workspace) -> bool:
    """The edited document still has the same rows, cell for cell, apart from `target`'s
    state and guidance: the guard that no edit can damage the table around it."""

    def shape(text: str) -> list[tuple]:
        rows = _rows_in(ws, SourceText(source.path, text, ""), target)
        if target.kind == RowKind.TODO:
            # The whole ledger must keep its shape too: every checklist item and attempt.
            doc = parse_ledger(SourceText(source.path, text, ""))
            others = [
                (i.subject, i.line, i.token, i.body) for i in doc.checklist if i.line != target.line
            ]
            rows_shape = [(r.id, r.kind, r.line) for r in rows if r.line == target.line]
            return [*others, *rows_shape, *((a.line, a.text) for a in doc.all_attempts())]
        return [
            (r.id, r.kind, r.line)
            + (
                (None, None, None if r.kind == RowKind.CHECKLIST else r.description)
                if r.line == target.line
                else (r.state_token, r.guidance, r.description)
            )
            for r in rows
        ]

    return shape(source.text) == shape(new_text)


@dataclass(frozen=True)
class AttemptAdded:
    path: Path
    number: int
    layout: LedgerLayout
    line: int
    requested: int | None = None  # the pre-assigned number asked for, if any


def check_number(doc: LedgerDoc, initiative: str, number: int) -> None:
    """Refuse a pre-assigned attempt number the initiative already uses."""
    if number < 1:
        raise BadInput(f"attempt number must be 1 or more, not {number}")
    used = doc.used_numbers(initiative)
    if number in used:
        where = f" at line {used[number]}" if used[number] else ""
        raise BadInput(
            f"attempt #{number} of {initiative} already exists{where}; the next free number is "
            f"#{doc.next_attempt_number(initiative)}",
            doc.path,
        )


def add_attempt(
    ws: Workspace,
    initiative: str,
    render: Callable[[int, str, dict[str, str]], list[str]],
    item_title: str | None = None,
    write: bool = True,
    number: int | None = None,
    fall_back: bool = False,
) -> AttemptAdded:
    """Append the next numbered attempt of `initiative`; `render(number, layout, style)` gives
    its lines (`style`: template variables that write a global entry's heading the way the
    file writes them, `entry_when` and `row_separator`).

    `number`: a pre-assigned number (a supervisor's "add Attempt #82") to use instead of the
    next one; refused when the initiative already has it, unless `fall_back`, which takes the
    next free number instead (the run is over and must be recorded; the caller reports it).
    With `write=False` nothing is written: the checks run (a readable ledger, an entry
    that reads back), so a caller can refuse before doing work it could not record.
    """
    path = ws.ledger_path
    if path.exists():
        source = SourceText.read(path)
    else:
        source = SourceText(path, "# Fix Plan Ledger\n", None)
    new_text, added = _plan_attempt(ws, initiative, source, render, item_title, number, fall_back)
    if write:

        def replan(text: str, sha256: str) -> str:
            # Another program edited the ledger meanwhile: the entry goes into its version
            # (renumbered if it added an attempt of this initiative).
            nonlocal added
            again, added = _plan_attempt(
                ws,
                initiative,
                SourceText(path, text, sha256),
                render,
                item_title,
                number,
                fall_back,
            )
            return again

        write_atomic(ws.write_target(path), new_text, source.sha256, replan=replan)
        ws.reload_path(path)  # the ledger's checklist rows moved down with it
    return added


def _plan_attempt(
    ws: Workspace,
    initiative: str,
    source: SourceText,
    render: Callable[[int, str, dict[str, str]], list[str]],
    item_title: str | None,
    number: int | None,
    fall_back: bool,
) -> tuple[str, AttemptAdded]:
    path = source.path
    doc: LedgerDoc = parse_ledger(source)
    archives = _archives(ws)
    requested = number
    if requested is not None:
        try:
            check_number(doc, initiative, requested)
            _check_archived_number(
                ws,
                archives,
                initiative,
                requested,
                next_number_with_archives(doc, initiative, archives),
            )
        except BadInput:
            if not fall_back:
                raise
            requested_taken = True
        else:
            requested_taken = False
        number = (
            next_number_with_archives(doc, initiative, archives) if requested_taken else requested
        )
    else:
        number = next_number_with_archives(doc, initiative, archives)
    layout = LedgerLayout.GLOBAL if doc.layout == LedgerLayout.GLOBAL else LedgerLayout.ITEMS
    style = doc.entry_style().context(datetime.now(UTC))
    splice = append_attempt(
        doc, initiative, render(number, layout, style), new_item_title=item_title
    )
    new_text = apply_splices(source.text, [splice])
    line = (
        new_text[: splice.start].count("\n")
        + 1
        + (1 if splice.text.startswith(("\n", "\r")) else 0)
    )
    after = parse_ledger(SourceText(path, new_text, ""))
    if (
        len(after.attempts_for(initiative)) != len(doc.attempts_for(initiative)) + 1
        or len(after.all_attempts()) != len(doc.all_attempts()) + 1
    ):
        # e.g. an unclosed ``` above the insertion point would swallow the new entry.
        raise BadInput(
            f"attempt #{number} of {initiative} would not read back from the ledger at line {line} "
            "(an unclosed code fence above it?); nothing written",
            path,
        )
    return new_text, AttemptAdded(
        path=path, number=number, layout=layout, line=line, requested=requested
    )


def _check_archived_number(
    ws: Workspace, archives: list[LedgerDoc], initiative: str, number: int, next_free: int
) -> None:
    """Refuse a pre-assigned number an archived attempt of `initiative` already has."""
    for archive in archives:
        line = archive.used_numbers(initiative).get(number)
        if line is not None:
            where = f":{line}" if line else ""
            raise BadInput(
                f"attempt #{number} of {initiative} already exists in the archive {ws.relative(archive.path)}{where}; "
                f"the next free number is #{next_free}",
                ws.ledger_path,
            )


def _archives(ws: Workspace) -> list[LedgerDoc]:
    return [parse_ledger(SourceText.read(path)) for path in ws.ledger_archive_paths()]
