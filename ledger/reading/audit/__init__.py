"""`ledger audit`: which rows really have evidence, and what else in the bookkeeping is broken."""

from __future__ import annotations

from ledger.documents.fix_plan import LedgerDoc
from ledger.documents.plan import Row
from ledger.errors import BadInput
from ledger.reading.audit.agreement import plan_ledger_disagreements
from ledger.reading.audit.context import InitiativeEvidence
from ledger.reading.audit.hygiene import (
    attempt_numbering,
    covered_folders,
    half_recorded_runs,
    items_without_plans,
    orphans_and_damage,
    root_logs,
    temp_leftovers,
)
from ledger.reading.audit.integrity import IntegrityChecker
from ledger.reading.audit.model import AuditClass, AuditReport, Issue, IssueKind, RowAudit
from ledger.reading.audit.rows import classify_row
from ledger.reading.gcpause import cyclic_gc_paused
from ledger.workspace import Workspace

__all__ = ["AuditClass", "AuditReport", "RowAudit", "Issue", "RowClassifier", "audit_workspace"]


def load_ledger(ws: Workspace) -> tuple[LedgerDoc | None, list[Issue]]:
    if not ws.ledger_path.exists():
        return None, [
            Issue(
                IssueKind.UNINTERPRETED,
                "no ledger file; attempts were not checked",
                ws.relative(ws.ledger_path),
            )
        ]
    try:
        return ws.read_ledger(), []
    except BadInput as exc:
        return None, [
            Issue(
                IssueKind.UNINTERPRETED,
                f"ledger not read: {exc.message}",
                ws.relative(ws.ledger_path),
                exc.line,
            )
        ]


def audit_workspace(
    ws: Workspace, initiative: str | None = None, since: str | None = None
) -> AuditReport:
    """The audit of every row (or INITIATIVE's); `since`: only rows and attempts changed
    since that commit. Verified rows whose tests or library code changed after their run's
    commit are marked stale."""
    from ledger.reading.audit.changes import change_scope, mark_stale, restrict_to_changes

    scope = change_scope(ws, since) if since else None  # a bad REV fails before any work
    checker = IntegrityChecker()
    with cyclic_gc_paused():
        report = _audit_workspace(ws, initiative, checker)
    mark_stale(ws, report, checker)
    if scope is not None:
        restrict_to_changes(ws, report, scope)
        report.since = since
    return report


def _audit_workspace(
    ws: Workspace, initiative: str | None, checker: IntegrityChecker
) -> AuditReport:
    from ledger.reading.audit.fork import audit_parts

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
    # Each initiative's rows, issues and citations: from worker processes when that pays
    # (ledger.reading.audit.fork), else from this one; either way in the initiatives' order.
    parts = audit_parts(ws, names, ledger, checker)
    if ledger is not None:
        report.issues += plan_ledger_disagreements(
            ws, ledger, names, {part.name: part.plan_rows or {} for part in parts}
        )
    for part in parts:
        report.rows += part.rows
        report.issues += part.issues
    cited_paths: set[str] = set().union(*(part.cited for part in parts))
    covered = covered_folders(cited_paths)
    for part in parts:
        report.issues += orphans_and_damage(part.name, part.leaves, cited_paths, covered)
    for part in parts:
        report.issues += part.unknown_findings
    report.issues += root_logs(ws)
    report.issues += temp_leftovers(ws, {part.name: part.stamp_leftovers for part in parts})
    report.issues += half_recorded_runs(ws)
    return report


class RowClassifier:
    """The audit of rows (what the html dashboard shows), initiative after initiative, with
    one parsed ledger and one integrity checker for them all, and each initiative's evidence
    (runs, attempts naming a row) for the pages to show beside the class."""

    def __init__(
        self, ws: Workspace, ledger: LedgerDoc | None, initiatives: list[str] | None = None
    ):
        self.ws = ws
        self.ledger = ledger
        self.checker = IntegrityChecker()
        self._evidence: dict[str, InitiativeEvidence] = {}
        self._noted = 0  # how many of the checker's folders had their commit noted
        for name in initiatives or []:
            self.evidence(name)

    def evidence(self, initiative: str) -> InitiativeEvidence:
        """The initiative's evidence, read once (every run's manifest, through the checker)."""
        if initiative not in self._evidence:
            self._evidence[initiative] = InitiativeEvidence(
                self.ws, initiative, self.ledger, self.checker
            )
        return self._evidence[initiative]

    def classify(self, initiative: str, rows: list[Row]) -> dict[int, RowAudit]:
        """The audit of each row, keyed by id(row)."""
        context = self.evidence(initiative)
        checked = self.checker.checked()
        if len(checked) > self._noted:
            # Every commit not yet noted (all initiatives' when they were read up front), so
            # the first lookup asks git about them in one call, not one per initiative.
            context.cross.want_commits(checked[self._noted :])
            self._noted = len(checked)
        return {id(row): classify_row(context, row) for row in rows}
