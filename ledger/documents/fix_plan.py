"""The ledger (docs/fix_plan.md) in the layouts real loops write.

- items: `## [ID] Title` (or `### [ID]` under Active/Done sections) with
  `- Key: value` fields and an `Attempts History` of `* [date] Attempt #N — ...`
  bullets;
- global: one `## Attempts History` section of `### <ISO> — <ID> <row> (label)`
  entries. A loop appends them at the end of the file, so entries stand after later
  sections too (`## TODOs`): every entry-shaped heading below the history heading is one.

Attempt numbers are read, never rewritten; the next one is max + 1 (entries archived to
other files count too: `next_number_with_archives`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ledger.markdown.fences import FENCE, FenceTracker, closes
from ledger.markdown.splice import Splice
from ledger.markdown.text import Line, SourceText, dominant_eol, normalise_hyphens, parse_heading


class LedgerLayout(StrEnum):
    """How a ledger file keeps its attempts (`attempt add --json` reports it)."""

    ITEMS = "items"  # one `## [ID]` item per initiative, each with a numbered Attempts History
    GLOBAL = "global"  # one `## Attempts History` of dated `### <date> — …` entries, no items
    EMPTY = "empty"  # neither yet


class ItemStatus(StrEnum):
    """The `Status:` values `ledger item --status` writes on a ledger item. Real ledgers write
    others too (`complete`, `archived`, free text); readers take those as they come."""

    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


_ITEM_HEADING = re.compile(r"^\[(?P<id>[^\]\s]+)\]\s*(?P<title>.*)$")
_ATTEMPT = re.compile(
    r"^(?P<indent>\s*)(?P<bullet>[*+-])\s+(?:\*\*)?\[(?P<date>\d{4}-\d{2}-\d{2}[^\]]*)\](?:\*\*)?\s+"
    r"(?:\*\*)?Attempt\s+#(?P<number>\d+)"
)
_ATTEMPTS_FIELD = re.compile(
    r"^(?P<indent>\s*)[*+-]\s+(?:\*\*)?Attempts?\s+History(?:\*\*)?\s*:?", re.IGNORECASE
)
_FIELD = re.compile(
    r"^(?P<indent>\s*)[*+-]\s+(?:\*\*)?(?P<key>[A-Za-z][\w /&()-]{0,40}?)(?:\*\*)?\s*:(?:\*\*)?(?P<value>.*)$"
)
# Lines of attempt text that would start an entry-level heading.
_ENTRY_HEADING = re.compile(r"^( {0,3})(#{1,3}(?=\s|$))")
# The number a global entry's heading label carries: `(passed, attempt #23, run 3f9a1c)`.
GLOBAL_NUMBER = re.compile(r"\battempt\s+#(\d+)", re.IGNORECASE)
_GLOBAL_ENTRY = re.compile(
    r"^(?P<when>\d{4}-\d{2}-\d{2}\S*)\s+[—–-]+\s+(?P<subject>.*?)(?:\s+\((?P<label>[^()]*)\))?\s*$"
)


@dataclass
class Attempt:
    initiative: str
    number: int | None  # None in the global layout, where entries carry no number
    date: str
    line: int
    end_line: int
    text: str  # the entry with its continuation lines
    label: str | None = None
    rows: tuple[str, ...] = ()
    row_separator: str | None = None  # "." for `ID.ROW`, " " for `ID ROW` (global headings)


@dataclass
class LedgerItem:
    id: str
    title: str
    line: int
    level: int
    fields: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (line, value)
    attempts: list[Attempt] = field(default_factory=list)
    attempts_field_line: int | None = None
    attempt_insert_line: int | None = None  # append after this line
    attempt_indent: str = "  "
    attempt_bullet: str = "*"
    end_line: int = 0  # last line of the item (inclusive)

    def next_attempt_number(self) -> int:
        numbers = [a.number for a in self.attempts if a.number is not None]
        return max(numbers) + 1 if numbers else 1


@dataclass
class ChecklistItem:
    """`- [ ] DEBUG-SIM-LINES-DOSE-001.F1: Await …` in the ledger's own checklists (`## TODOs`,
    `## Completed Items`): rows the loop tracks, often ones its plan file lacks."""

    subject: str  # the id before the colon: `DEBUG-SIM-LINES-DOSE-001.F1`, or a bare `S4`
    token: str
    token_span: tuple[int, int]  # offsets in the file text
    body: str
    body_span: tuple[int, int]
    line: int
    section: str | None  # the title of the heading above it
    section_line: int

    def row_of(self, initiative: str) -> str | None:
        """`F1` when the item names a row of `initiative` (`<initiative>.F1`), else None."""
        prefix = initiative + "."
        if self.subject.startswith(prefix) and len(self.subject) > len(prefix):
            return self.subject[len(prefix) :]
        return None


@dataclass
class GlobalHistory:
    heading_line: int
    end_line: int  # last line of the section (inclusive)
    entries: list[Attempt] = field(default_factory=list)

    @property
    def append_after(self) -> int:
        """The line a new entry goes after: the file's last entry (wherever the loop put it,
        e.g. past `## TODOs`), or the end of the section while it has none."""
        return max((entry.end_line for entry in self.entries), default=self.end_line)


# How entry headings write their time, most specific first: (pattern, strftime format).
_WHEN_STYLES = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"), "%Y-%m-%dT%H:%M:%SZ"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$"), "%Y-%m-%dT%H:%MZ"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z$"), "%Y-%m-%dT%H%M%SZ"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{4}Z$"), "%Y-%m-%dT%H%MZ"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
)
DEFAULT_WHEN_FORMAT = "%Y-%m-%dT%H:%MZ"
_TIME_PARTS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2}))?)?")


def time_key(date: str) -> tuple[int, ...]:
    """A sort key for an attempt's date in any of the styles real ledgers write
    (`2026-01-23`, `2026-01-23T08:35Z`, `2026-01-23T083500Z`); a date alone sorts first
    on its day."""
    match = _TIME_PARTS.match(date)
    if not match:
        return (9999,)
    return tuple(int(part) if part else -1 for part in match.groups())


@dataclass(frozen=True)
class EntryStyle:
    """How a global history writes its entry headings, read from the entries it has, so
    a new one reads like its neighbours: `2026-01-23T08:35Z — ID.F1 (label)`."""

    when_format: str = DEFAULT_WHEN_FORMAT
    row_separator: str = "."

    def context(self, when) -> dict[str, str]:
        """Template variables for an entry written at `when` (an aware UTC datetime)."""
        return {"entry_when": when.strftime(self.when_format), "row_separator": self.row_separator}


@dataclass
class LedgerDoc:
    source: SourceText
    layout: LedgerLayout
    items: dict[str, LedgerItem] = field(default_factory=dict)
    history: GlobalHistory | None = None
    checklist: list[ChecklistItem] = field(default_factory=list)
    duplicate_items: list[tuple[str, int, int]] = field(default_factory=list)
    # Attempt numbers under a repeated `## [ID]` heading (its item is not kept in `items`):
    # the next number must still be above them.
    duplicate_numbers: dict[str, list[int]] = field(default_factory=dict)
    _lines: list[Line] = field(default_factory=list, repr=False)

    @property
    def path(self) -> Path:
        return self.source.path

    def timeline_for(self, initiative: str) -> list[Attempt]:
        """`attempts_for` in time order (real files are not sorted); ties keep file order."""
        return sorted(self.attempts_for(initiative), key=lambda a: time_key(a.date))

    def entry_style(self) -> EntryStyle:
        """The heading style of this file's global entries: the commonest time format, and
        `ID.ROW` or `ID ROW` as most of its entries naming a row write it."""
        from collections import Counter

        entries = self.history.entries if self.history else []
        formats = Counter(
            fmt for a in entries for pattern, fmt in _WHEN_STYLES if pattern.match(a.date)
        )
        separators = Counter(a.row_separator for a in entries if a.rows and a.row_separator)
        return EntryStyle(
            when_format=formats.most_common(1)[0][0] if formats else DEFAULT_WHEN_FORMAT,
            row_separator=separators.most_common(1)[0][0] if separators else ".",
        )

    def attempts_for(self, initiative: str) -> list[Attempt]:
        if self.layout == LedgerLayout.GLOBAL and self.history:
            return [a for a in self.history.entries if a.initiative == initiative]
        item = self.items.get(initiative)
        return list(item.attempts) if item else []

    def all_attempts(self) -> list[Attempt]:
        if self.history:
            return list(self.history.entries)
        return [a for item in self.items.values() for a in item.attempts]

    def used_numbers(self, initiative: str) -> dict[int, int]:
        """Attempt number -> line of its first entry, for `initiative` (global entries carry
        theirs in the heading label, `attempt #N`; entries without one have none)."""
        used: dict[int, int] = {}
        for attempt in self.attempts_for(initiative):
            number = attempt.number
            if number is None and self.layout == LedgerLayout.GLOBAL:
                match = GLOBAL_NUMBER.search(attempt.label or "")
                number = int(match.group(1)) if match else None
            if number is not None:
                used.setdefault(number, attempt.line)
        for number in self.duplicate_numbers.get(initiative, []):
            used.setdefault(number, 0)
        return used

    def next_attempt_number(self, initiative: str) -> int:
        if self.layout == LedgerLayout.GLOBAL:
            # Entries are counted (real histories number none of them), and a number a
            # supervisor pre-assigned or a merge gave is never handed out again.
            return max([len(self.attempts_for(initiative)), *self.used_numbers(initiative)]) + 1
        numbers = list(self.used_numbers(initiative))
        return max(numbers) + 1 if numbers else 1


def parse_ledger(source: SourceText) -> LedgerDoc:
    lines = source.lines()
    doc = LedgerDoc(source=source, layout=LedgerLayout.EMPTY, _lines=lines)
    headings = _headings(lines)
    _read_items(doc, lines, headings)
    if not doc.items:
        _read_global_history(doc, lines, headings)
    doc.layout = (
        LedgerLayout.ITEMS
        if doc.items
        else LedgerLayout.GLOBAL
        if doc.history
        else LedgerLayout.EMPTY
    )
    _read_checklist(doc, lines, headings)
    return doc


_CHECKLIST_ITEM = re.compile(
    r"^(?P<lead>\s*[-*+]\s+)(?P<token>\[[^\[\]]{0,3}\])(?P<gap>\s+)"
    r"(?P<head>(?:\*\*)?(?P<subject>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\*\*)?\s*(?::|—|–)\s*)(?P<body>.*)$"
)


_CHECKBOX = re.compile(r"\s*[-*+]\s+\[[^\[\]]{0,3}\]\s")


def _read_checklist(doc: LedgerDoc, lines: list[Line], headings) -> None:
    """The ledger's checklist items with an id (`- [x] ID.ROW: text`), outside code fences
    and outside global history entries (whose bodies are the loop's prose)."""
    inside_entries = {
        n
        for a in (doc.history.entries if doc.history else [])
        for n in range(a.line, a.end_line + 1)
    }
    heading_at = {index: title for index, _, title in headings}
    section, section_line = None, 0
    fences = FenceTracker()
    for index, line in enumerate(lines):
        if fences.in_fence(line.text):
            continue
        if index in heading_at:
            section, section_line = heading_at[index], index + 1
            continue
        if index + 1 in inside_entries or "[" not in line.text or not _CHECKBOX.match(line.text):
            continue  # the cheap test first: a 20,000-attempt ledger has as many `* [date]` lines
        match = _CHECKLIST_ITEM.match(normalise_hyphens(line.text))
        if not match:
            continue
        token_start = line.start + match.start("token")
        body_start = line.start + match.start("body")
        body = line.text[match.start("body") :]
        doc.checklist.append(
            ChecklistItem(
                subject=match.group("subject"),
                token=match.group("token"),
                token_span=(token_start, token_start + len(match.group("token"))),
                body=body.strip(),
                body_span=(body_start, body_start + len(body.rstrip())),
                line=index + 1,
                section=section,
                section_line=section_line,
            )
        )


def _headings(lines: list[Line]) -> list[tuple[int, int, str]]:
    """(index, level, title) of every heading outside code fences."""
    found = []
    fences = FenceTracker()
    for index, line in enumerate(lines):
        if fences.in_fence(line.text):
            continue
        heading = parse_heading(line.text)  # linear: a padded heading must not stall a read
        if heading:
            found.append((index, *heading))
    return found


def _section_end(lines: list[Line], headings, position: int) -> int:
    """Index of the last line before the next heading of the same or higher level."""
    index, level, _ = headings[position]
    for other_index, other_level, _ in headings[position + 1 :]:
        if other_level <= level:
            return other_index - 1
    return len(lines) - 1


def _read_items(doc: LedgerDoc, lines: list[Line], headings) -> None:
    for position, (index, level, title) in enumerate(headings):
        match = _ITEM_HEADING.match(title)
        if not match or level < 2:
            continue
        item_id = normalise_hyphens(match.group("id"))
        end = _section_end(lines, headings, position)
        item = LedgerItem(
            id=item_id, title=match.group("title"), line=index + 1, level=level, end_line=end + 1
        )
        _read_item_body(item, lines, index + 1, end)
        if item_id in doc.items:
            doc.duplicate_items.append((item_id, doc.items[item_id].line, item.line))
            doc.duplicate_numbers.setdefault(item_id, []).extend(
                a.number for a in item.attempts if a.number is not None
            )
            continue
        doc.items[item_id] = item


def _read_item_body(item: LedgerItem, lines: list[Line], first: int, last: int) -> None:
    field_indent: int | None = None
    in_attempts = False
    current: Attempt | None = None
    for index in range(first, last + 1):
        line = lines[index]
        text = line.text
        attempt = _ATTEMPT.match(text)
        if attempt:
            current = Attempt(
                initiative=item.id,
                number=int(attempt.group("number")),
                date=attempt.group("date"),
                line=index + 1,
                end_line=index + 1,
                text=text.strip(),
            )
            item.attempts.append(current)
            item.attempt_indent = attempt.group("indent")
            item.attempt_bullet = attempt.group("bullet")
            if in_attempts or item.attempts_field_line is None:
                item.attempt_insert_line = index + 1
            continue
        attempts_field = _ATTEMPTS_FIELD.match(text)
        if attempts_field:
            item.attempts_field_line = index + 1
            item.attempt_insert_line = index + 1
            field_indent = len(attempts_field.group("indent"))
            item.attempt_indent = attempts_field.group("indent") + "  "
            in_attempts = True
            current = None
            continue
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip())
        field_match = _FIELD.match(text)
        ends_block = field_indent is not None and indent <= field_indent
        if field_match and (field_indent is None or indent <= field_indent):
            item.fields.setdefault(
                field_match.group("key").strip(), (index + 1, field_match.group("value").strip())
            )
        if ends_block:
            in_attempts = False
            current = None
            continue
        if current is not None and indent > len(item.attempt_indent):
            current.text += "\n" + text.strip()
            current.end_line = index + 1
            if in_attempts:
                item.attempt_insert_line = index + 1
        elif in_attempts:
            item.attempt_insert_line = index + 1


def _read_global_history(doc: LedgerDoc, lines: list[Line], headings) -> None:
    for position, (index, level, title) in enumerate(headings):
        if level > 2 or not re.match(r"^attempts?\s+history\b", title.strip(), re.IGNORECASE):
            continue
        end = _section_end(lines, headings, position)
        history = GlobalHistory(heading_line=index + 1, end_line=end + 1)
        # Every entry-shaped heading below the history heading, wherever it stands: the loop
        # appends at the end of the file, past later sections such as `## TODOs`.
        later = headings[position + 1 :]
        for entry_position, (entry_index, entry_level, entry_title) in enumerate(later):
            if entry_level <= level:
                continue
            match = _GLOBAL_ENTRY.match(entry_title)
            if not match:
                continue
            # The entry runs to the next heading of its level or above (its own sub-headings stay in it).
            entry_end = next(
                (h[0] - 1 for h in later[entry_position + 1 :] if h[1] <= entry_level),
                len(lines) - 1,
            )
            while entry_end > entry_index and not lines[entry_end].text.strip():
                entry_end -= 1
            initiative, rows = split_subject(match.group("subject"))
            head = normalise_hyphens(match.group("subject")).strip().split(" ", 1)[0]
            separator = "." if "." in head else " " if rows else None
            body = "\n".join(lines[i].text for i in range(entry_index, entry_end + 1))
            history.entries.append(
                Attempt(
                    initiative=initiative,
                    number=None,
                    date=match.group("when"),
                    line=entry_index + 1,
                    end_line=entry_end + 1,
                    text=body,
                    label=match.group("label"),
                    rows=rows,
                    row_separator=separator,
                )
            )
        doc.history = history
        return


def next_number_with_archives(doc: LedgerDoc, initiative: str, archives: list[LedgerDoc]) -> int:
    """The next attempt number of `initiative`, counting the attempts moved to archive files
    (`docs/fix_plan_archive.md`, …): numbering continues where the archive left off. In the
    global layout entries are counted (the archived ones came first); numbered attempts
    anywhere set a floor of their highest number + 1."""
    number = doc.next_attempt_number(initiative)
    for archive in archives:
        archived = archive.attempts_for(initiative)
        numbers = [a.number for a in archived if a.number is not None]
        numbers += archive.duplicate_numbers.get(initiative, [])
        if doc.layout in (LedgerLayout.GLOBAL, LedgerLayout.EMPTY):
            number += len(archived)
        if numbers:
            number = max(number, max(numbers) + 1)
    return number


def entry_token() -> str:
    """A short random id for a global entry's heading. Two machines adding an attempt to the
    same row in the same second would otherwise write byte-identical headings, which a line
    merge (git's own, or any driver) keeps once with both bodies under it: one attempt lost."""
    import secrets

    return secrets.token_hex(3)


def split_subject(subject: str) -> tuple[str, tuple[str, ...]]:
    """`DEBUG-SIM-LINES-DOSE-001.C1/C2` -> ("DEBUG-SIM-LINES-DOSE-001", ("C1", "C2")); a
    phase-qualified row, as `ledger do` names a repeated id, stays qualified:
    `GOLD-001.B.C1` -> ("GOLD-001", ("B.C1",))."""
    head, _, rest = normalise_hyphens(subject).strip().partition(" ")
    initiative, dot, row_part = head.partition(".")
    row_text = row_part if dot else rest
    rows = tuple(
        r
        for r in re.split(r"[/,\s–—]+|-(?=[A-Z])", row_text)
        if re.match(r"^(?=[A-Za-z0-9.]*\d)[A-Za-z0-9][A-Za-z0-9.]*$", r)
    )
    return initiative, rows


# ---------------------------------------------------------------- editing


def append_attempt(
    doc: LedgerDoc, initiative: str, entry_lines: list[str], new_item_title: str | None = None
) -> Splice:
    """The splice that adds one attempt for `initiative` at the end of its block.

    `entry_lines` is the rendered entry without base indentation: the first
    line is the attempt text, later lines are its continuation.
    """
    lines = doc._lines
    eol = dominant_eol(lines) if lines else "\n"
    if doc.layout == LedgerLayout.GLOBAL:
        assert doc.history is not None  # the global layout is the one with a history
        # The entry's own heading is its first line; text below it (a summary, a selector
        # with a newline) must not open another heading or a code fence that would hide
        # every entry after it.
        first, *body = entry_lines
        return _insert_after(
            lines,
            _last_content_line(lines, doc.history.append_after),
            ["", first, *_inert_body(body)],
            eol,
        )
    item = doc.items.get(initiative)
    if item is None:
        block = ["", f"## [{initiative}] {new_item_title or initiative}", "- Attempts History:"]
        block += _bullet(entry_lines, "  ", "*")
        return _insert_after(lines, _last_content_line(lines, len(lines)), block, eol)
    bullet = _bullet(entry_lines, item.attempt_indent, item.attempt_bullet)
    if item.attempt_insert_line is None:
        # No attempts block yet: add the field at the end of the item's content.
        at = _last_content_line(lines, item.end_line)
        return _insert_after(
            lines, at, ["- Attempts History:", *_bullet(entry_lines, "  ", "*")], eol
        )
    return _insert_after(lines, item.attempt_insert_line, bullet, eol)


def _inert_body(body: list[str]) -> list[str]:
    """`body` with a backslash before each line that would end the entry: a heading of
    level 1-3, or a code fence that is never closed (it would hide every later entry).
    Closed fences are kept, and so is what they enclose."""
    out: list[str] = []
    index = 0
    while index < len(body):
        line = body[index]
        fence = FENCE.match(line)
        if fence:
            marker = fence.group(1)
            close = next((j for j in range(index + 1, len(body)) if closes(marker, body[j])), None)
            if close is not None:
                out.extend(body[index : close + 1])
                index = close + 1
                continue
            line = line.replace(marker, "\\" + marker, 1)
        else:
            line = _ENTRY_HEADING.sub(r"\1\\\2", line)
        out.append(line)
        index += 1
    return out


def _bullet(entry_lines: list[str], indent: str, bullet: str) -> list[str]:
    first, *rest = entry_lines
    return [f"{indent}{bullet} {first}", *(f"{indent}  {line}" if line else "" for line in rest)]


def _last_content_line(lines: list[Line], upto: int) -> int:
    """1-based number of the last non-blank line at or before `upto` (0 if none)."""
    number = min(upto, len(lines))
    while number > 0 and not lines[number - 1].text.strip():
        number -= 1
    return number


def _insert_after(lines: list[Line], line_number: int, new_lines: list[str], eol: str) -> Splice:
    if line_number == 0:
        text = eol.join(new_lines) + eol
        if new_lines and new_lines[0] == "":
            text = eol.join(new_lines[1:]) + eol
        return Splice(0, 0, text)
    anchor = lines[line_number - 1]
    body = eol.join(new_lines)
    if anchor.eol:
        return Splice(anchor.next_start, anchor.next_start, body + eol)
    # The anchor is the file's last line and has no newline: keep it that way.
    return Splice(anchor.end, anchor.end, eol + body)


# ---------------------------------------------------------------- checklist rows


def checklist_rows(
    doc: LedgerDoc,
    vocabulary,
    initiative: str,
    exclude: frozenset[str] = frozenset(),
    where: str | None = None,
) -> list:
    """The ledger's checklist items naming a row of `initiative` (`<initiative>.F1: …`) as
    plan rows (kind "todo", the ledger as their file), the item's text after the id being
    both description and guidance, so `mark`/`do` edit them like a plan's checklist items.
    `exclude`: row ids the plan itself has (the plan row is the row); `where`: the ledger's
    name, added to the section titles (`TODOs (docs/fix_plan.md)`)."""
    from ledger.documents.plan import Phase, Row, RowKind, derive_section_slug

    phases: dict[int, Phase] = {}
    rows = []
    for item in doc.checklist:
        row_id = item.row_of(initiative)
        if row_id is None or row_id in exclude:
            continue
        section = item.section or "Checklist"
        title = section + (f" ({where})" if where else "")
        phase = phases.setdefault(
            item.section_line,
            Phase(
                title=title,
                line=item.section_line,
                level=2,
                key=None,
                slug=derive_section_slug(section),
            ),
        )
        rows.append(
            Row(
                id=row_id,
                description=item.body,
                state=vocabulary.classify(item.token),
                state_token=item.token,
                state_span=item.token_span,
                guidance=item.body,
                guidance_span=item.body_span,
                phase=phase,
                path=doc.path,
                line=item.line,
                kind=RowKind.TODO,
                subject=item.subject,
            )
        )
    return rows
