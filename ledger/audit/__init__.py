"""`ledger audit`: which rows really have evidence, and what else in the bookkeeping is broken."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path

from ledger.audit.context import InitiativeEvidence
from ledger.audit.hygiene import (
    attempt_citations,
    attempt_numbering,
    covered_folders,
    items_without_plans,
    orphans_and_damage,
    root_logs,
    unknown_findings,
)
from ledger.audit.integrity import IntegrityChecker
from ledger.audit.model import CLASSES, AuditReport, Issue, RowAudit
from ledger.audit.rows import classify_row
from ledger.errors import BadInput
from ledger.fixplan import LedgerDoc, parse_ledger
from ledger.markdown.text import SourceText
from ledger.plan import Row
from ledger.workspace import Workspace

__all__ = ["CLASSES", "AuditReport", "RowAudit", "Issue", "audit_workspace", "classify_rows"]


def load_ledger(ws: Workspace) -> tuple[LedgerDoc | None, list[Issue]]:
    if not ws.ledger_path.exists():
        return None, [Issue("uninterpreted", "no ledger file; attempts were not checked", ws.relative(ws.ledger_path))]
    try:
        return parse_ledger(SourceText.read(ws.ledger_path)), []
    except BadInput as exc:
        return None, [Issue("uninterpreted", f"ledger not read: {exc.message}", ws.relative(ws.ledger_path), exc.line)]


@contextmanager
def _cyclic_gc_paused():
    """The audit builds hundreds of thousands of small acyclic objects; the cyclic collector
    re-scanned them all the time for nothing (a fifth of a large audit's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def audit_workspace(ws: Workspace, initiative: str | None = None) -> AuditReport:
    with _cyclic_gc_paused():
        return _audit_workspace(ws, initiative)


def _audit_workspace(ws: Workspace, initiative: str | None) -> AuditReport:
    if initiative is not None:
        ws.initiative_dir(initiative)  # unknown initiative: a clear error, exit 2
    names = [initiative] if initiative else ws.initiatives()
    report = AuditReport(root=str(ws.root), initiatives=names)
    ledger, ledger_issues = load_ledger(ws)
    report.issues += ledger_issues
    if ledger is not None:
        numbering = attempt_numbering(ws, ledger)
        report.issues += [i for i in numbering if initiative is None or i.initiative == initiative]
        if initiative is None:
            report.issues += items_without_plans(ws, ledger, names)
    checker = IntegrityChecker()
    contexts = []
    cited_paths: set[Path] = set()
    for name in names:
        context = InitiativeEvidence(ws, name, ledger, checker)
        contexts.append(context)
        for plan in ws.plans(name):
            for diagnostic in plan.diagnostics:
                report.issues.append(Issue("uninterpreted", diagnostic.message, ws.relative(diagnostic.path), diagnostic.line, name))
            for resolution in context.resolve_text(plan.source.text, 1):
                cited_paths.update(resolution.existing)
            report.rows += [classify_row(context, row) for row in plan.rows]
        for evidence in context.attempts:
            for resolution in evidence.resolutions:
                cited_paths.update(resolution.existing)
        item = ledger.items.get(name) if ledger is not None else None
        if item is not None:
            for line, value in item.fields.values():
                for resolution in context.resolve_text(value, line):
                    cited_paths.update(resolution.existing)
        report.issues += attempt_citations(ws, context)
    directive = ws.root / "input.md"
    if directive.is_file():
        for context in contexts:
            text = SourceText.read(directive).text
            for resolution in context.resolve_text(text, 1):
                cited_paths.update(resolution.existing)
    covered = covered_folders(cited_paths)
    for context in contexts:
        report.issues += orphans_and_damage(ws, context, cited_paths, covered, checker)
    report.issues += unknown_findings(ws, names)
    report.issues += root_logs(ws)
    return report


def classify_rows(ws: Workspace, initiative: str, rows: list[Row]) -> dict[int, str]:
    """Audit class per row, keyed by id(row): what the html dashboard shows."""
    ledger, _ = load_ledger(ws)
    context = InitiativeEvidence(ws, initiative, ledger, IntegrityChecker())
    return {id(row): classify_row(context, row).audit for row in rows}
