"""Plan files: phases, their task tables and checklists, located by content.

Tables are recognised by their header (an `ID` column, a column starting with
`State`, one starting with `How/Why`), not by position; checklists by
`- [x] A1: ...` items. Every row remembers the exact spans of its state token
and guidance cell so an edit can splice only those characters.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ledger.documents.states import STATE_TOKEN, RowState, StateVocabulary
from ledger.markdown.fences import FenceTracker
from ledger.markdown.table import Cell, is_delimiter_row, split_cells
from ledger.markdown.text import Line, SourceText, normalise_hyphens, parse_heading, strip_marks

ROW_ID = re.compile(r"^[A-Za-z0-9]+(?:[.\-][A-Za-z0-9]+)*$")
_PHASE_KEY = re.compile(r"\bPhase\s+([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)\b", re.IGNORECASE)
# A phase key that is a word: "Phase Final: Deprecation…" (not "Phase Exit Reviews",
# "Phase Status:").
_ORDINAL_KEYS = frozenset(
    [
        "final",
        "last",
        "initial",
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
    ]
)
_CHECKLIST = re.compile(r"^(\s*[-*+]\s+)(\[[^\[\]]{0,3}\])(\s+)(.*)$")
_CHECKLIST_ID = re.compile(
    r"^(?:\*\*)?(?P<id>[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[.\-][A-Za-z0-9]+)*)(?:\*\*)?\s*(?::|—|–)\s*"
)
_WRAPPED = re.compile(r"^(\*\*|__|\*|_)(?P<inner>.+)\1$")


@dataclass
class Phase:
    title: str
    line: int
    level: int
    key: str | None  # "D" for "Phase D — ...", None for other sections
    slug: str

    @property
    def is_phase(self) -> bool:
        return self.key is not None


class RowKind(StrEnum):
    """Where a row comes from, which decides how its note is written (`status --json` gives it)."""

    TABLE = "table"  # a task table row: the note goes into its guidance cell, escaped
    CHECKLIST = "checklist"  # a checklist item of a plan file: the note on its line
    TODO = "todo"  # an item of the ledger's own checklist (docs/fix_plan.md)


@dataclass
class Row:
    id: str
    description: str
    state: RowState | None  # None when the cell is not a known state
    state_token: str
    state_span: tuple[int, int]  # offsets in the file text
    guidance: str
    guidance_span: tuple[int, int]  # offsets of the guidance text (append at [1])
    phase: Phase | None
    path: Path
    line: int
    kind: RowKind
    section: str | None = None  # a divider row label inside a table
    subject: str | None = None  # a ledger checklist item's whole id, `DEBUG-SIM-LINES-DOSE-001.F1`
    # False for a checklist item with no id of its own (`- [ ] **Phase 1:** …`); its id is
    # then `L<line>` and only its reference (`implementation.md#L132`) names it.
    has_id: bool = True
    # How commands name this row within its initiative, unique there: `D1`, `C.C1`,
    # `phase_1_checklist.md:0.A` or `implementation.md#L132` (set by the workspace, which
    # sees every plan file of the initiative; the id until then).
    ref: str = ""

    def __post_init__(self) -> None:
        if not self.ref:
            self.ref = self.id

    @property
    def qualified_id(self) -> str:
        return f"{self.phase.key}.{self.id}" if self.phase and self.phase.key else self.id

    @property
    def display_id(self) -> str:
        """`A.A1` where the phase-qualified id names the row; its reference where only the file
        does (`phase_1_checklist.md:0.A`, `implementation.md#L132`): audit lines and html anchors."""
        return self.qualified_id if self.ref in (self.id, self.qualified_id) else self.ref

    @property
    def label(self) -> str:
        """How an attempt or a directive names the row: `Phase D.D1`, else its reference."""
        if self.phase and self.phase.key and self.ref in (self.id, self.qualified_id):
            return (
                self.id
                if self.id.startswith(self.phase.key + ".")
                else f"Phase {self.phase.key}.{self.id}"
            )
        return self.ref

    @property
    def own_text(self) -> str:
        """Description and guidance, each once: a checklist item's body is both."""
        if self.description == self.guidance:
            return self.guidance
        return f"{self.description} {self.guidance}"


@dataclass(frozen=True)
class Diagnostic:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Plan:
    source: SourceText
    phases: list[Phase] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The rows of this initiative that only the ledger's checklist holds (`## TODOs`):
    # the source is the ledger, whose text is not this initiative's plan text.
    from_ledger: bool = False
    fixed_title: str | None = None

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def title(self) -> str | None:
        if self.fixed_title is not None:
            return self.fixed_title
        for line in self.source.text.split("\n", 40)[:40]:
            heading = parse_heading(line.rstrip("\r"))
            if heading and heading[0] == 1:
                return heading[1]
        return None


def parse_plan(source: SourceText, vocabulary: StateVocabulary | None = None) -> Plan:
    return _PlanParser(source, vocabulary or StateVocabulary()).parse()


@dataclass
class _Table:
    header_line: int
    id_col: int
    state_col: int
    guidance_col: int
    description_col: int
    section: str | None = None


def unwrap_emphasis(text: str) -> str:
    """`**Review APIs**` -> `Review APIs`; a code span at either end (`` Implement `X` ``) stays whole."""
    text = text.strip()
    while (match := _WRAPPED.match(text)) and match.group(1) not in match.group("inner"):
        text = match.group("inner").strip()
    return text


def _normalise_header(text: str) -> str:
    return strip_marks(text).lower()


def _is_diff_row(text: str) -> bool:
    """A table row pasted from a diff: `-| A1 | ... |` or `+| A1 | ... |`."""
    text = text.rstrip()
    return len(text) >= 3 and text[0] in "-+" and text[1] == "|" and text.endswith("|")


def _table_header(cells: list[Cell], line_number: int) -> _Table | None:
    names = [_normalise_header(cell.text) for cell in cells]
    try:
        id_col = names.index("id")
    except ValueError:
        return None
    state_col = next((i for i, n in enumerate(names) if n.startswith("state")), None)
    guidance_col = next((i for i, n in enumerate(names) if n.startswith("how/why")), None)
    if state_col is None or guidance_col is None:
        return None
    description_col = next(
        (i for i, n in enumerate(names) if "task" in n or "description" in n),
        id_col + 1,
    )
    return _Table(line_number, id_col, state_col, guidance_col, description_col)


class _PlanParser:
    def __init__(self, source: SourceText, vocabulary: StateVocabulary):
        self.source = source
        self.vocabulary = vocabulary
        self.plan = Plan(source)
        self.lines = source.lines()
        self.phase: Phase | None = None

    def parse(self) -> Plan:
        table: _Table | None = None
        fences = FenceTracker()
        for line in self.lines:
            if fences.in_fence(line.text):
                table = None  # a table does not continue across a code block
                continue
            cells = split_cells(line.text)
            if cells is None and _is_diff_row(line.text):
                # Neither keep nor drop the table around it: its other rows still count.
                self._diagnose(
                    line,
                    f"stray diff prefix {line.text[0]!r} before a table row; line ignored (remove the prefix)",
                )
                continue
            if cells is None:
                table = None
                heading = parse_heading(line.text)
                if heading:
                    self._enter_section(line, *heading)
                    continue
                self._checklist_item(line)
                continue
            if table is None:
                table = _table_header(cells, line.number)
                continue
            repeated_header = _table_header(cells, line.number)
            if repeated_header is not None:
                table = (
                    repeated_header  # a header row again (two tables run together): not a row "ID"
                )
                continue
            self._table_row(table, line, cells)
        self._assign_slugs()
        return self.plan

    def _enter_section(self, line: Line, level: int, title: str) -> None:
        title = (
            unwrap_emphasis(title) or title
        )  # `### **Checklist: …**` titles the section "Checklist: …"
        key_match = _PHASE_KEY.search(title)
        key = (
            key_match.group(1)
            if key_match and title.lstrip("*_ ").lower().startswith("phase")
            else None
        )
        if (
            key is not None
            and len(key) > 3
            and not any(ch.isdigit() for ch in key)
            and key.lower() not in _ORDINAL_KEYS
        ):
            key = None  # "Phase Exit Reviews" names a section, not a phase
        if (
            key is None
            and self.phase is not None
            and self.phase.is_phase
            and level > self.phase.level
        ):
            return  # a sub-heading inside a phase keeps its rows in that phase
        self.phase = Phase(title=title, line=line.number, level=level, key=key, slug="")
        self.plan.phases.append(self.phase)

    def _table_row(self, table: _Table, line: Line, cells: list[Cell]) -> None:
        if is_delimiter_row(cells):
            return
        filled = [cell for cell in cells if cell.text]
        if len(filled) == 1 and len(cells) <= 2 or len(cells) == 1 or self._is_divider(filled):
            table.section = unwrap_emphasis(filled[0].text) if filled else None
            return
        needed = max(table.id_col, table.state_col, table.guidance_col)
        if len(cells) <= needed:
            self._diagnose(
                line,
                f"table row has {len(cells)} cells, header (line {table.header_line}) needs {needed + 1}",
            )
            return
        row_id = normalise_hyphens(strip_marks(cells[table.id_col].text))
        if not ROW_ID.match(row_id):
            if row_id:
                self._diagnose(line, f"unrecognised row id {row_id!r}")
            return
        state_cell = cells[table.state_col]
        token_match = STATE_TOKEN.search(state_cell.raw)
        if token_match:
            token = token_match.group()
            state_span = (
                line.start + state_cell.start + token_match.start(),
                line.start + state_cell.start + token_match.end(),
            )
        else:
            token = ""
            state_span = (
                line.start + state_cell.content_start,
                line.start + state_cell.content_end,
            )
        state = self.vocabulary.classify(token) if token else None
        if state is None:
            self._diagnose(line, f"row {row_id}: unrecognised state {state_cell.text!r}")
        guidance = cells[table.guidance_col]
        description_col = (
            table.description_col if table.description_col < len(cells) else table.id_col
        )
        self.plan.rows.append(
            Row(
                id=row_id,
                description=unwrap_emphasis(cells[description_col].value),
                state=state,
                state_token=token,
                state_span=state_span,
                guidance=guidance.text,
                guidance_span=(
                    line.start + guidance.content_start,
                    line.start + guidance.content_end,
                ),
                phase=self.phase,
                path=self.source.path,
                line=line.number,
                kind=RowKind.TABLE,
                section=table.section,
            )
        )

    @staticmethod
    def _is_divider(filled: list[Cell]) -> bool:
        """`| **Section 0: Preparation** | | | |`: one bold label, the other cells empty."""
        if len(filled) != 1:
            return False
        text = filled[0].text
        return unwrap_emphasis(text) != text or not ROW_ID.match(
            normalise_hyphens(strip_marks(text))
        )

    def _checklist_item(self, line: Line) -> None:
        match = _CHECKLIST.match(line.text)
        if not match:
            return
        body = match.group(4)
        token = match.group(2)
        state = self.vocabulary.classify(token)
        id_match = _CHECKLIST_ID.match(normalise_hyphens(body))
        if not id_match and state is None:
            return  # `- [see below] …`, `- [1] …`: a link or footnote, not a task
        token_start = line.start + len(match.group(1))
        if id_match:
            row_id, id_end, has_id = (
                id_match.group("id"),
                id_match.end(),
                True,
            )  # hyphens already normalised
        else:
            # A task with no id (`- [ ] **Phase 1:** Core refactoring`) is still a row: counted,
            # listed, and named by its file and line.
            row_id, id_end, has_id = f"L{line.number}", 0, False
        if state is None:
            self._diagnose(line, f"row {row_id}: unrecognised state {token!r}")
        guidance_start = token_start + len(token) + len(match.group(3)) + id_end
        text = body[id_end:].strip()
        self.plan.rows.append(
            Row(
                id=row_id,
                description=text,
                state=state,
                state_token=token,
                state_span=(token_start, token_start + len(token)),
                guidance=text,
                guidance_span=(guidance_start, line.start + len(line.text.rstrip())),
                phase=self.phase,
                path=self.source.path,
                line=line.number,
                kind=RowKind.CHECKLIST,
                has_id=has_id,
            )
        )

    def _diagnose(self, line: Line, message: str) -> None:
        self.plan.diagnostics.append(Diagnostic(self.source.path, line.number, message))

    def _assign_slugs(self) -> None:
        text = self.source.text
        phases = self.plan.phases
        for index, phase in enumerate(phases):
            if phase.key is None:  # not a phase (is_phase), a plain section
                phase.slug = _slugify(phase.title) or "section"
                continue
            start = self.lines[phase.line - 1].start
            end = (
                self.lines[phases[index + 1].line - 1].start
                if index + 1 < len(phases)
                else len(text)
            )
            phase.slug = _cited_slug(text[start:end], phase.key) or derive_phase_slug(
                phase.key, phase.title
            )


def _cited_slug(section_text: str, key: str) -> str | None:
    """The `phase_<key>_*` report folder the phase's own text already uses."""
    pattern = re.compile(
        r"reports/[^/\s`]+/(phase_"
        + re.escape(key.lower().replace(".", "_"))
        + r"(?:_[a-z0-9_]+)?)/"
    )
    counts = Counter(m.group(1) for m in pattern.finditer(section_text))
    if not counts:
        return None
    return counts.most_common(1)[0][0]


def derive_phase_slug(key: str, title: str) -> str:
    """`Phase D — Regression Hardening & Documentation` -> `phase_d_hardening`.

    The head noun of the title's first clause names the work in the real
    report folders (phase_d_hardening, phase_b_fixture), so use its last word.
    """
    rest = _PHASE_KEY.split(title, maxsplit=1)[-1]
    rest = re.split(r"\s[&(:/+]|\s(?:and|—|–|-)\s", rest.strip(" —–-:*_"), maxsplit=1)[0]
    words = [w.replace("-", "_") for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", rest.lower())]
    base = f"phase_{key.lower().replace('.', '_')}"
    return f"{base}_{words[-1]}" if words else base


def derive_section_slug(title: str) -> str:
    """The report-folder slug of a section that is not a phase (`## TODOs` -> `todos`)."""
    return _slugify(title) or "section"


def _slugify(title: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", title.lower()))[:60]


def assign_refs(rows: list[Row]) -> None:
    """Give every row of one initiative a reference no other row of it shares.

    The id when it is unique; `C.C1` when the id repeats across phases of one file; the
    file name and id (`phase_1_checklist.md:0.A`) when it repeats from file to file (each
    Claude-Code `phase_N_checklist.md` numbers its rows from `0.A`); the file and line
    (`implementation.md#L132`) for an item with no id, or an id twice in one phase."""
    ids = Counter(row.id for row in rows if row.has_id)
    qualified = Counter(
        row.qualified_id for row in rows if row.has_id and row.phase and row.phase.key
    )
    in_file = Counter((row.path.name, row.id) for row in rows if row.has_id)
    for row in rows:
        by_file = f"{row.path.name}:{row.id}"
        by_phase = (
            qualified[row.qualified_id] == 1 and row.phase is not None and row.phase.key is not None
        )
        if not row.has_id:
            row.ref = line_ref(row)
        elif ids[row.id] == 1:
            row.ref = row.id
        elif in_file[(row.path.name, row.id)] > 1 and by_phase:
            row.ref = row.qualified_id  # phases of one file tell the twins apart
        elif in_file[(row.path.name, row.id)] == 1:
            row.ref = by_file
        elif by_phase:
            row.ref = row.qualified_id
        else:
            row.ref = line_ref(row)


def line_ref(row: Row) -> str:
    return f"{row.path.name}#L{row.line}"
