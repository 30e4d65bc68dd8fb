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
from pathlib import Path

from ledger.markdown.fences import FenceTracker
from ledger.markdown.table import Cell, is_delimiter_row, split_cells
from ledger.markdown.text import Line, SourceText, normalise_hyphens
from ledger.states import STATE_TOKEN, StateVocabulary

ROW_ID = re.compile(r"^[A-Za-z0-9]+(?:[.\-][A-Za-z0-9]+)*$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_PHASE_KEY = re.compile(r"\bPhase\s+([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)\b", re.IGNORECASE)
_CHECKLIST = re.compile(r"^(\s*[-*+]\s+)(\[[^\[\]]{0,3}\])(\s+)(.*)$")
_CHECKLIST_ID = re.compile(
    r"^(?:\*\*)?(?P<id>[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[.\-][A-Za-z0-9]+)*)(?:\*\*)?\s*(?::|—|–)\s*"
)
_EMPHASIS = re.compile(r"^[*_`\s]+|[*_`\s]+$")
_WRAPPED = re.compile(r"^(\*\*|__|\*|_)(?P<inner>.+)\1$")
# A table row pasted from a diff: `-| A1 | ... |` or `+| A1 | ... |`.
_DIFF_ROW = re.compile(r"^[-+]\|.*\|\s*$")


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


@dataclass
class Row:
    id: str
    description: str
    state: str | None  # open / partial / done, None when the cell is not a known state
    state_token: str
    state_span: tuple[int, int]  # offsets in the file text
    guidance: str
    guidance_span: tuple[int, int]  # offsets of the guidance text (append at [1])
    phase: Phase | None
    path: Path
    line: int
    kind: str  # "table" or "checklist" (or "todo": an item of the ledger's own checklist)
    section: str | None = None  # a divider row label inside a table
    subject: str | None = None  # a ledger checklist item's whole id, `DEBUG-SIM-LINES-DOSE-001.F1`

    @property
    def qualified_id(self) -> str:
        return f"{self.phase.key}.{self.id}" if self.phase and self.phase.key else self.id

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
            match = _HEADING.match(line.rstrip("\r"))
            if match and len(match.group(1)) == 1:
                return match.group(2)
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
    return _EMPHASIS.sub("", text).strip().lower()


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
            if cells is None and _DIFF_ROW.match(line.text):
                # Neither keep nor drop the table around it: its other rows still count.
                self._diagnose(line, f"stray diff prefix {line.text[0]!r} before a table row; line ignored (remove the prefix)")
                continue
            if cells is None:
                table = None
                heading = _HEADING.match(line.text)
                if heading:
                    self._enter_section(line, len(heading.group(1)), heading.group(2))
                    continue
                self._checklist_item(line)
                continue
            if table is None:
                table = _table_header(cells, line.number)
                continue
            repeated_header = _table_header(cells, line.number)
            if repeated_header is not None:
                table = repeated_header  # a header row again (two tables run together): not a row "ID"
                continue
            self._table_row(table, line, cells)
        self._assign_slugs()
        return self.plan

    def _enter_section(self, line: Line, level: int, title: str) -> None:
        title = unwrap_emphasis(title) or title  # `### **Checklist: …**` titles the section "Checklist: …"
        key_match = _PHASE_KEY.search(title)
        key = key_match.group(1) if key_match and title.lstrip("*_ ").lower().startswith("phase") else None
        if key is not None and len(key) > 3 and not any(ch.isdigit() for ch in key):
            key = None  # "Phase Exit Reviews" names a section, not a phase
        if key is None and self.phase is not None and self.phase.is_phase and level > self.phase.level:
            return  # a sub-heading inside a phase keeps its rows in that phase
        self.phase = Phase(title=title, line=line.number, level=level, key=key, slug="")
        self.plan.phases.append(self.phase)

    def _table_row(self, table: _Table, line: Line, cells: list[Cell]) -> None:
        if is_delimiter_row(cells):
            return
        filled = [cell for cell in cells if cell.text]
        if len(filled) == 1 and len(cells) <= 2 or len(cells) == 1:
            table.section = unwrap_emphasis(filled[0].text) if filled else None
            return
        needed = max(table.id_col, table.state_col, table.guidance_col)
        if len(cells) <= needed:
            self._diagnose(line, f"table row has {len(cells)} cells, header (line {table.header_line}) needs {needed + 1}")
            return
        row_id = normalise_hyphens(_EMPHASIS.sub("", cells[table.id_col].text))
        if not ROW_ID.match(row_id):
            if row_id:
                self._diagnose(line, f"unrecognised row id {row_id!r}")
            return
        state_cell = cells[table.state_col]
        token_match = STATE_TOKEN.search(state_cell.raw)
        if token_match:
            token = token_match.group()
            state_span = (line.start + state_cell.start + token_match.start(), line.start + state_cell.start + token_match.end())
        else:
            token = ""
            state_span = (line.start + state_cell.content_start, line.start + state_cell.content_end)
        state = self.vocabulary.classify(token) if token else None
        if state is None:
            self._diagnose(line, f"row {row_id}: unrecognised state {state_cell.text!r}")
        guidance = cells[table.guidance_col]
        description_col = table.description_col if table.description_col < len(cells) else table.id_col
        self.plan.rows.append(
            Row(
                id=row_id,
                description=unwrap_emphasis(cells[description_col].value),
                state=state,
                state_token=token,
                state_span=state_span,
                guidance=guidance.text,
                guidance_span=(line.start + guidance.content_start, line.start + guidance.content_end),
                phase=self.phase,
                path=self.source.path,
                line=line.number,
                kind="table",
                section=table.section,
            )
        )

    def _checklist_item(self, line: Line) -> None:
        match = _CHECKLIST.match(line.text)
        if not match:
            return
        body = match.group(4)
        id_match = _CHECKLIST_ID.match(normalise_hyphens(body))
        if not id_match:
            return
        token = match.group(2)
        token_start = line.start + len(match.group(1))
        state = self.vocabulary.classify(token)
        row_id = id_match.group("id")  # hyphens already normalised
        if state is None:
            self._diagnose(line, f"row {row_id}: unrecognised state {token!r}")
        guidance_start = token_start + len(token) + len(match.group(3)) + id_match.end()
        self.plan.rows.append(
            Row(
                id=row_id,
                description=body[id_match.end():].strip(),
                state=state,
                state_token=token,
                state_span=(token_start, token_start + len(token)),
                guidance=body[id_match.end():].strip(),
                guidance_span=(guidance_start, line.start + len(line.text.rstrip())),
                phase=self.phase,
                path=self.source.path,
                line=line.number,
                kind="checklist",
            )
        )

    def _diagnose(self, line: Line, message: str) -> None:
        self.plan.diagnostics.append(Diagnostic(self.source.path, line.number, message))

    def _assign_slugs(self) -> None:
        text = self.source.text
        phases = self.plan.phases
        for index, phase in enumerate(phases):
            if not phase.is_phase:
                phase.slug = _slugify(phase.title) or "section"
                continue
            start = self.lines[phase.line - 1].start
            end = self.lines[phases[index + 1].line - 1].start if index + 1 < len(phases) else len(text)
            phase.slug = _cited_slug(text[start:end], phase.key) or derive_phase_slug(phase.key, phase.title)


def _cited_slug(section_text: str, key: str) -> str | None:
    """The `phase_<key>_*` report folder the phase's own text already uses."""
    pattern = re.compile(r"reports/[^/\s`]+/(phase_" + re.escape(key.lower().replace(".", "_")) + r"(?:_[a-z0-9_]+)?)/")
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
