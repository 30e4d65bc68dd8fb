"""Where a `ledger do` run goes when the supervisor chose it: `--report-dir`, `--at`, `--from-input`.

A supervisor's directive (input.md) names the evidence folder (`Artifacts:
plans/active/<ID>/reports/<TS>/`), the focus row and the mapped tests; the engineer's
`ledger do` must write there, not in a folder of its own. Everything here is decided
before the run, so a bad directive costs no test time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.errors import BadInput
from ledger.running.evidence import TIMESTAMP, TIMESTAMP_FORMAT, check_slug
from ledger.running.selector import looks_like_selector, mapped_selectors

# A chosen folder may be dated a little after this machine's clock (another machine wrote
# the directive); beyond that it would stay "newest" and hide every later run.
FUTURE_SLACK_S = 60


@dataclass(frozen=True)
class ChosenFolder:
    at: str  # the `<TS>` folder name
    slug: str | None  # the `<slug>` under it, when the choice named one
    by: str  # "--at", "--report-dir" or "input.md Artifacts"


def check_timestamp(value: str, by: str, now: datetime | None = None) -> str:
    if not TIMESTAMP.match(value):
        raise BadInput(f"{by}: {value!r} is not a report timestamp like 2026-01-23T020500Z")
    moment = datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if moment > now + timedelta(seconds=FUTURE_SLACK_S):
        raise BadInput(
            f"{by}: {value} is in the future; a folder dated later than its run would stay the newest"
        )
    return value


def folder_from_path(ws, initiative: str, text: str, by: str) -> ChosenFolder:
    """`<report root>/<TS>/` or `<report root>/<TS>/<slug>/`, workspace-relative or absolute."""
    path = Path(text)
    path = path if path.is_absolute() else ws.root / path
    report_root = ws.report_root(initiative)
    try:
        parts = path.resolve().relative_to(report_root.resolve()).parts
    except ValueError:
        raise BadInput(
            f"{by}: {text!r} is not under {ws.relative(report_root)}/ (the folder audit reads for {initiative}); "
            f"use {ws.relative(report_root)}/<TS>/"
        ) from None
    if len(parts) == 1:
        return ChosenFolder(check_timestamp(parts[0], by), None, by)
    if len(parts) == 2:
        return ChosenFolder(check_timestamp(parts[0], by), check_slug(parts[1]), by)
    raise BadInput(
        f"{by}: {text!r} must be {ws.relative(report_root)}/<TS>/ or {ws.relative(report_root)}/<TS>/<slug>/"
    )


def choose_folder(
    ws, initiative: str, report_dir: str | None, at: str | None
) -> ChosenFolder | None:
    if report_dir and at:
        raise BadInput("--report-dir and --at both choose the folder; pass one")
    if report_dir:
        return folder_from_path(ws, initiative, report_dir, "--report-dir")
    if at:
        return ChosenFolder(check_timestamp(at, "--at"), None, "--at")
    return None


# ---------------------------------------------------------------- input.md


@dataclass
class DirectiveTarget:
    path: str  # the directive, workspace-relative
    initiative: str
    row: str
    selector: str | None  # None: the row's own mapped selector
    report_dir: str | None  # the Artifacts folder, as written
    notes: list[str] = field(default_factory=list)  # how each field was decided
    line: int | None = None  # the Mapped tests line the selector came from (a refusal names it)

    @property
    def source(self) -> str:
        return f"{self.path} Mapped tests"


# A row id in Focus prose (`— Phase B1 fixture requirements`); one end of a range (`S1–S2`) names no single row.
_ROW_WORD = re.compile(r"(?<![\w.\-–—])(?:Phase\s+)?([A-Z]{1,3}\d+[a-z]?(?:\.\d+)?)(?![\w\-–—])")


def read_target(
    ws, path_text: str, initiative: str | None, row: str | None, selector: str | None
) -> DirectiveTarget:
    """Initiative, row, selector and artifacts folder from a directive; arguments given win."""
    from ledger.documents.directive import artifacts_path, parse_directive, parse_focus
    from ledger.markdown.text import SourceText

    path = Path(path_text)
    path = path if path.is_absolute() else ws.root / path
    if not path.exists():
        raise BadInput(f"--from-input: {path_text}: file not found")
    directive = parse_directive(SourceText.read(path))
    where = ws.relative(path)
    notes: list[str] = []
    focus = directive.fields.get("focus")
    focus_text = focus.full_text if focus else ""
    if initiative is None:
        found_initiative, found_row, token = (
            parse_focus(focus_text, ws.known_initiatives()) if focus_text else (None, None, "")
        )
        if found_initiative is None:
            raise BadInput(
                f"Focus names no initiative of this workspace ({token or focus_text or 'no Focus:'!r}); "
                "pass INITIATIVE ROW",
                where,
                focus.line if focus else None,
            )
        initiative = found_initiative
        notes.append(f"initiative {initiative} from Focus")
        if row is None:
            row = found_row or _row_in_prose(ws, initiative, focus_text)
            if row is None:
                raise BadInput(
                    f"Focus names {initiative} but no row of it ({focus_text.strip()[:80]!r}); "
                    f"pass the row: ledger do --from-input {path_text} {initiative} ROW",
                    where,
                    focus.line if focus else None,
                )
            notes.append(f"row {row} from Focus")
    elif row is None:
        raise BadInput("pass both INITIATIVE and ROW, or neither (then Focus decides)")
    from_mapped = selector is None
    if from_mapped:
        selector = _mapped_selector(ws, directive, where, initiative, row, notes)
    artifacts = directive.fields.get("artifacts")
    report_dir = (
        artifacts_path(artifacts.full_text) if artifacts and artifacts.value.strip() else None
    )
    if report_dir:
        notes.append(f"report folder from Artifacts: {report_dir}")
    mapped = directive.fields.get("mapped_tests")
    line = mapped.line if from_mapped and mapped is not None and selector is not None else None
    return DirectiveTarget(where, initiative, row, selector, report_dir or None, notes, line)


def _row_in_prose(ws, initiative: str, text: str) -> str | None:
    """`… — Phase B1 fixture requirements`: the first word that is exactly one row of the initiative."""
    for match in _ROW_WORD.finditer(text):
        try:
            ws.find_row(initiative, match.group(1))
        except BadInput:
            continue
        return match.group(1)
    return None


def _mapped_selector(
    ws, directive, where: str, initiative: str, row: str, notes: list[str]
) -> str | None:
    mapped = directive.fields.get("mapped_tests")
    if mapped is None:
        notes.append("no Mapped tests: the row's own selector")
        return None
    selectors, says_none = mapped_selectors_of(mapped.full_text)
    if says_none or not selectors:
        notes.append(
            f"Mapped tests says none ({mapped.value.strip()[:60]!r}): the row's own selector"
        )
        return None
    if len(selectors) == 1:
        notes.append("selector from Mapped tests")
        return selectors[0]
    # `a.py::x, b.py::y`: node ids run together as one pytest command.
    if all(
        looks_like_selector(s) and not s.startswith("pytest") and " " not in s for s in selectors
    ):
        notes.append("selector from Mapped tests (node ids run together)")
        return "pytest " + " ".join(selectors)
    raise BadInput(
        f"Mapped tests holds {len(selectors)} selectors; pick one with --selector",
        where,
        mapped.line,
    )


def mapped_selectors_of(value: str) -> tuple[list[str], bool]:
    selectors, says_none = mapped_selectors(value)
    split: list[str] = []
    for selector in selectors:
        # A plain list `a.py::x, b.py::y` is one piece to the directive checker.
        pieces = (
            [p.strip() for p in selector.split(",")]
            if "::" in selector and "," in selector
            else [selector]
        )
        split.extend(p for p in pieces if p)
    return split, says_none
