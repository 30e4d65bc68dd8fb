"""The audit's work per initiative, as plain data: what one process (the audit's own, or a
worker of a parallel audit: ledger.reading.audit.fork) finds for a list of initiatives,
for the audit to merge in the initiatives' order.

Nothing here needs another initiative's answers: orphan folders, the one check that does
(a folder is cited when any initiative cites it), are decided at the merge, from every
initiative's cited paths and each one's leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ledger.documents.fix_plan import LedgerDoc
from ledger.markdown.text import SourceText
from ledger.reading.audit.agreement import PlanRow, plan_rows_by_id
from ledger.reading.audit.context import InitiativeEvidence
from ledger.reading.audit.hygiene import (
    Leaf,
    attempt_citations,
    report_leaves,
    unknown_findings_by_initiative,
)
from ledger.reading.audit.integrity import FolderCheck, IntegrityChecker
from ledger.reading.audit.model import AuditClass, Issue, IssueKind, RowAudit
from ledger.reading.audit.rows import classify_row
from ledger.workspace import Workspace


@dataclass
class InitiativePart:
    name: str
    # Its plan rows by id, for plan_ledger_disagreements (None: the audit has no ledger).
    plan_rows: dict[str, list[PlanRow]] | None = None
    issues: list[Issue] = field(default_factory=list)  # plan diagnostics, then attempt citations
    rows: list[RowAudit] = field(default_factory=list)
    cited: set[str] = field(default_factory=set)  # every existing path it cites, as text
    leaves: list[Leaf] = field(default_factory=list)
    unknown_findings: list[Issue] = field(default_factory=list)
    stamp_leftovers: list[Path] = field(default_factory=list)
    # The checks of its verified rows' proofs, for mark_stale (filled in a worker only:
    # the audit's own process has them in its checker already).
    proofs: list[FolderCheck] = field(default_factory=list)


def initiative_parts(
    ws: Workspace, names: list[str], ledger: LedgerDoc | None, checker: IntegrityChecker
) -> list[InitiativePart]:
    """The audit's findings for `names`, one part each, in their order.

    The steps run in the order a whole audit has always run them (every plan parsed, then
    every initiative's evidence read, then the rows, ...): when a workspace holds more than
    one error, the audit of all initiatives in one process reports the same one first.
    """
    parts = [InitiativePart(name) for name in names]
    if ledger is not None:
        for part in parts:
            part.plan_rows = plan_rows_by_id(ws, part.name)
    contexts = [InitiativeEvidence(ws, name, ledger, checker) for name in names]
    if contexts:
        # Every run's commit, looked up in one git call before any row asks for one.
        contexts[0].cross.want_commits(checker.checked())
    cited_paths: list[set[Path]] = []
    for part, context in zip(parts, contexts, strict=True):
        cited: set[Path] = set()
        cited_paths.append(cited)
        for plan in ws.plans(part.name):
            for diagnostic in plan.diagnostics:
                part.issues.append(
                    Issue(
                        IssueKind.UNINTERPRETED,
                        diagnostic.message,
                        ws.relative(diagnostic.path),
                        diagnostic.line,
                        part.name,
                    )
                )
            # A plan's whole text cites; rows from the ledger's checklist cite through their own
            # text (the ledger's other text is no plan's) and their attempts.
            for resolution in (
                context.resolve_text(plan.source.text, 1) if not plan.from_ledger else []
            ):
                cited.update(resolution.existing)
            part.rows += [classify_row(context, row) for row in plan.rows]
        for evidence in context.attempts:
            for resolution in evidence.resolutions:
                cited.update(resolution.existing)
        item = ledger.items.get(part.name) if ledger is not None else None
        if item is not None:
            for line, value in item.fields.values():
                for resolution in context.resolve_text(value, line):
                    cited.update(resolution.existing)
        part.issues += attempt_citations(ws, context)
    directive = ws.root / "input.md"
    if directive.is_file():
        for cited, context in zip(cited_paths, contexts, strict=True):
            text = SourceText.read(directive).text
            for resolution in context.resolve_text(text, 1):
                cited.update(resolution.existing)
    for part, cited, context in zip(parts, cited_paths, contexts, strict=True):
        part.cited = {str(path) for path in cited}
        part.leaves = report_leaves(ws, context, checker)
        part.stamp_leftovers = context.stamp_leftovers
    for part, found in zip(parts, unknown_findings_by_initiative(ws, names), strict=True):
        part.unknown_findings = found
    return parts


def proof_checks(parts: list[InitiativePart], checker: IntegrityChecker, ws: Workspace) -> None:
    """Put into each part the checks of its verified rows' proofs (a worker's, sent back)."""
    for part in parts:
        part.proofs = [
            checker.check(ws.root / row.proof)
            for row in part.rows
            if row.audit is AuditClass.VERIFIED and row.proof
        ]
