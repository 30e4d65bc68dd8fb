"""The findings file (docs/findings.md) and the plans that cite its IDs.

Real findings files are a table `| Finding ID | Date | Keywords | Synopsis |
Evidence Pointer | Status |` (sometimes with no separator row) or one
`### POLICY-001 — Title` heading per finding. A citation is an ID such as
`CONFIG-001` in plan text; initiative IDs (`TEST-PYTORCH-001`) and other
numbered labels (`ADR-003`, `FU-002`) look the same, so an ID counts as a
citation only when its prefix is a finding category or its line talks about
findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.markdown.fences import FenceTracker
from ledger.markdown.table import is_delimiter_row, split_cells
from ledger.markdown.text import SourceText, parse_heading

# Segments after the first may start with a digit: `PDEBENCH-CNS-SPECTRAL-40EP-001`.
FINDING_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{3,4}$")
# Citations: a whole `WORD-…-NNN` not glued to a longer hyphenated name.
_CITED_ID = re.compile(
    r"(?<![A-Za-z0-9_-])([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)-(\d{3,4})(?![A-Za-z0-9_]|-[A-Za-z0-9])"
)
# A heading's title (see parse_heading) that starts with a finding id.
_HEADING_ID = re.compile(
    r"^(?:\*\*)?`?(?P<id>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{3,4})`?(?:\*\*)?(?:\s*[—–:-]+(?P<title>.*)|\s*$)"
)
_MENTIONS_FINDINGS = re.compile(r"finding", re.IGNORECASE)
# Categories the real process uses; the findings file adds its own.
DEFAULT_CATEGORIES = frozenset({"POLICY", "CONFIG", "FORMAT", "DATA", "BUG", "PERF", "TEST", "ENV"})

_COLUMNS = {
    "id": ("finding id", "id", "finding"),
    "date": ("date",),
    "keywords": ("keywords", "keyword", "tags"),
    "synopsis": ("synopsis", "summary", "description", "title"),
    "evidence": ("evidence pointer", "evidence", "pointer"),
    "status": ("status", "state"),
}


# Agents sometimes type U+2010/U+2011 hyphens; one-for-one so offsets stay put.
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-"})


def normalise_hyphens(text: str) -> str:
    if "\u2010" not in text and "\u2011" not in text:
        return text  # translate walks a non-ASCII text character by character: an audit's plans are a megabyte
    return text.translate(_HYPHENS)


@dataclass
class Finding:
    id: str
    line: int
    date: str = ""
    keywords: str = ""
    synopsis: str = ""
    evidence: str = ""
    status: str = ""
    # The line of a `## ID - Title` section elaborating a table row, below the table.
    details_line: int | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FindingsDoc:
    path: Path
    findings: dict[str, Finding] = field(default_factory=dict)
    duplicates: list[tuple[str, int, int]] = field(
        default_factory=list
    )  # id, first line, repeat line
    section_lines: set[int] = field(
        default_factory=set, repr=False
    )  # findings defined by a heading

    @property
    def categories(self) -> frozenset[str]:
        return DEFAULT_CATEGORIES | {finding_id.rsplit("-", 1)[0] for finding_id in self.findings}


@dataclass(frozen=True)
class Citation:
    id: str
    path: Path
    line: int


def parse_findings(source: SourceText) -> FindingsDoc:
    doc = FindingsDoc(source.path)
    columns: dict[str, int] | None = None
    fences = FenceTracker()
    for line in source.lines():
        text = normalise_hyphens(line.text)
        if fences.in_fence(text):
            columns = None  # a table does not continue across a code block
            continue
        cells = split_cells(text)
        if cells is None:
            columns = None
            heading = parse_heading(text)
            match = _HEADING_ID.match(heading[1]) if heading else None
            if match:
                _add_section(
                    doc,
                    Finding(
                        match.group("id"),
                        line.number,
                        synopsis=(match.group("title") or "").strip(),
                    ),
                )
            continue
        if columns is None:
            columns = _header_columns([c.text for c in cells])
            if columns is not None:
                continue
        if columns is None or is_delimiter_row(cells):
            continue
        texts = [_strip_emphasis(c.value) for c in cells]
        finding_id = texts[columns["id"]] if columns["id"] < len(texts) else ""
        if not FINDING_ID.match(finding_id):
            continue
        values: dict[str, Any] = {
            key: texts[index] if index < len(texts) else ""
            for key, index in columns.items()
            if key != "id"
        }
        _add(doc, Finding(finding_id, line.number, **values))
    return doc


def _header_columns(names: list[str]) -> dict[str, int] | None:
    normalised = [_strip_emphasis(name).lower() for name in names]
    columns: dict[str, int] = {}
    for key, aliases in _COLUMNS.items():
        for index, name in enumerate(normalised):
            if name in aliases and index not in columns.values():
                columns[key] = index
                break
    if "id" not in columns:
        return None
    return columns


# A cell wholly wrapped in one emphasis or code marker: `**CONFIG-001**`, `` `reports/x` ``.
_WRAPPED = re.compile(r"(\*\*|__|\*|_|`+)(.*)\1", re.S)


def _strip_emphasis(text: str) -> str:
    """The cell without markers that wrap all of it (`**Active**` -> `Active`). Markers that
    open or close only part of it stay: `**Scoped:** the runner` and `` call `f` `` keep theirs
    (stripping every leading and trailing `*`, `_` and backtick left `Scoped:** the runner`
    and an unclosed code span)."""
    text = text.strip()
    while (wrapped := _WRAPPED.fullmatch(text)) and wrapped.group(1) not in wrapped.group(2):
        text = wrapped.group(2).strip()
    return text


def _add_section(doc: FindingsDoc, finding: Finding) -> None:
    """A `## ID - Title` heading: a finding of its own, or the details of the table row
    that defines it (real files keep a table and elaborate some rows below it)."""
    known = doc.findings.get(finding.id)
    if known is not None and known.details_line is None and known.line not in doc.section_lines:
        known.details_line = finding.line
        return
    _add(doc, finding)
    doc.section_lines.add(finding.line)


def _add(doc: FindingsDoc, finding: Finding) -> None:
    if finding.id in doc.findings:
        doc.duplicates.append((finding.id, doc.findings[finding.id].line, finding.line))
        return
    doc.findings[finding.id] = finding


def load_findings(path: Path) -> FindingsDoc:
    """The findings file, or an empty one when the workspace has none yet."""
    if not path.exists():
        return FindingsDoc(path)
    return parse_findings(SourceText.read(path))


def find_citations(
    text: str,
    path: Path,
    categories: frozenset[str],
    not_findings: frozenset[str] = frozenset(),
) -> list[Citation]:
    """Finding IDs cited in `text`, first occurrence per line, in order."""
    found: list[Citation] = []
    fences = FenceTracker()
    for number, line in enumerate(normalise_hyphens(text).splitlines(), start=1):
        if fences.in_fence(line):
            continue
        about_findings = bool(_MENTIONS_FINDINGS.search(line))
        seen_here: set[str] = set()
        for match in _CITED_ID.finditer(line):
            finding_id = match.group(0)
            if finding_id in not_findings or finding_id in seen_here:
                continue
            prefix = match.group(1)
            if prefix in categories or (about_findings and "-" not in prefix):
                seen_here.add(finding_id)
                found.append(Citation(finding_id, path, number))
    return found


def workspace_citations(
    ws,
    doc: FindingsDoc,
    initiatives: list[str] | None = None,
    not_findings: frozenset[str] | None = None,
) -> list[Citation]:
    """Citations in every plan file of the workspace (or of `initiatives`). `not_findings`:
    the workspace's initiative ids (ids that look like findings but are not), when the
    caller has listed them already."""
    names = initiatives if initiatives is not None else ws.initiatives()
    if not_findings is None:
        not_findings = frozenset(ws.initiatives())
    citations: list[Citation] = []
    for initiative in names:
        # The workspace's parsed plans: an audit has read them already.
        for plan in ws.plans(initiative):
            if plan.from_ledger:
                continue  # the ledger's checklist rows: the ledger is not a plan file
            citations.extend(
                find_citations(plan.source.text, plan.path, doc.categories, not_findings)
            )
    return citations


def findings_report(ws) -> dict:
    """Every finding, who cites it, and citations of IDs the file lacks."""
    doc = load_findings(ws.findings_path)
    citations = workspace_citations(ws, doc)
    cited_by: dict[str, list[str]] = {}
    unknown = []
    for citation in citations:
        where = f"{ws.relative(citation.path)}:{citation.line}"
        if citation.id in doc.findings:
            cited_by.setdefault(citation.id, []).append(where)
        else:
            unknown.append(
                {"id": citation.id, "file": ws.relative(citation.path), "line": citation.line}
            )
    return {
        "file": ws.relative(ws.findings_path),
        "exists": ws.findings_path.exists(),
        "findings": [
            {**finding.to_json(), "cited_by": cited_by.get(finding.id, [])}
            for finding in doc.findings.values()
        ],
        "duplicates": [
            {"id": i, "line": first, "repeated_at": again} for i, first, again in doc.duplicates
        ],
        "unknown_citations": unknown,
        "ok": not unknown,
    }
