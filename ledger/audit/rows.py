"""The audit class of one plan row."""

from __future__ import annotations

from pathlib import Path

from ledger.audit.context import InitiativeEvidence
from ledger.audit.integrity import INCOMPLETE, INTACT, TAMPERED as FOLDER_TAMPERED
from ledger.audit.model import (
    CLAIMED,
    CONTRADICTED,
    EVIDENCED,
    OPEN,
    PARTIAL,
    TAMPERED,
    UNKNOWN,
    VERIFIED,
    Reason,
    RowAudit,
)
from ledger.citations import Resolution
from ledger.plan import Row
from ledger.states import DONE, OPEN as STATE_OPEN, PARTIAL as STATE_PARTIAL


def classify_row(context: InitiativeEvidence, row: Row) -> RowAudit:
    ws = context.ws
    plan_file = ws.relative(row.path)
    audit = RowAudit(
        initiative=context.initiative,
        row=row.id,
        qualified_id=row.qualified_id,
        description=row.description,
        state=row.state,
        token=row.state_token,
        file=plan_file,
        line=row.line,
        audit=UNKNOWN,
    )
    own = context.row_resolutions(row)
    attempts = context.attempts_naming(row)
    cited: list[tuple[Resolution, str, int]] = [(r, plan_file, r.citation.line) for r in own]
    ledger_file = ws.relative(ws.ledger_path)
    for attempt in attempts:
        cited += [(r, ledger_file, r.citation.line) for r in attempt.resolutions]
    cited_folders = context.manifest_folders([r for r, _, _ in cited], row)
    folders = cited_folders | set(context.recorded_folders(row))
    checks = sorted((context.checker.check(f) for f in folders), key=lambda c: c.sort_key)

    def rel(folder: Path) -> str:
        return ws.relative(folder) + "/"

    tampered = [c for c in checks if c.status == FOLDER_TAMPERED]
    runs = [c for c in checks if c.status == INTACT and c.outcome]
    newest = runs[-1] if runs else None
    for check in checks:
        if check.status == INCOMPLETE:
            audit.reasons.append(Reason(f"{rel(check.folder)}: run never finished (manifest complete=false)"))

    if tampered:
        audit.audit = TAMPERED
        for check in tampered:
            audit.evidence.append(rel(check.folder))
            audit.reasons += [Reason(f"{rel(check.folder)}{p}") for p in check.problems]
        return audit

    if row.state == DONE:
        if newest is not None and newest.outcome != "passed":
            audit.audit = CONTRADICTED
            audit.evidence.append(rel(newest.folder))
            why = newest.manifest.get("reason") or newest.outcome
            audit.reasons.insert(0, Reason(f"marked {row.state_token} but the newest run {rel(newest.folder)} {newest.outcome}: {why}"))
            return audit
        cited_passing = [c for c in runs if c.outcome == "passed" and c.folder in cited_folders]
        if newest is not None and cited_passing:
            audit.audit = VERIFIED
            audit.evidence += [rel(c.folder) for c in cited_passing]
            audit.reasons.insert(0, Reason(f"passing run with intact manifest: {rel(cited_passing[-1].folder)}"))
            audit.reasons += [Reason(f"{rel(c.folder)}{note}") for c in cited_passing for note in c.notes]
            return audit
        if newest is not None:
            audit.reasons.append(Reason(f"a passing run {rel(newest.folder)} is recorded but neither the row nor an attempt cites it"))
        existing = [(r, f, ln) for r, f, ln in cited if r.exists]
        if existing:
            audit.audit = EVIDENCED
            for resolution, file, line in existing:
                audit.evidence += [ws.relative(p) for p in resolution.existing]
            audit.reasons.insert(0, Reason(f"cites existing evidence without an intact manifest: {', '.join(audit.evidence[:3])}"))
            _add_unresolved(audit, cited)
            return audit
        audit.audit = CLAIMED
        if not cited:
            audit.reasons.insert(0, Reason(f"marked {row.state_token} but neither the row nor any attempt naming it cites evidence", plan_file, row.line))
        else:
            audit.reasons.insert(0, Reason(f"marked {row.state_token} but nothing it cites exists", plan_file, row.line))
        _add_unresolved(audit, cited)
        return audit

    if row.state == STATE_OPEN:
        if newest is not None and newest.outcome == "passed":
            audit.audit = CONTRADICTED
            audit.evidence.append(rel(newest.folder))
            audit.reasons.insert(0, Reason(f"still {row.state_token} but its newest run {rel(newest.folder)} passed (stale state)", plan_file, row.line))
            return audit
        audit.audit = OPEN
        return audit
    if row.state == STATE_PARTIAL:
        audit.audit = PARTIAL
        if newest is not None:
            audit.evidence.append(rel(newest.folder))
            audit.reasons.append(Reason(f"newest run {rel(newest.folder)}: {newest.outcome}"))
        return audit
    audit.reasons.append(Reason(f"state cell {row.state_token!r} is not a known state", plan_file, row.line))
    return audit


def _add_unresolved(audit: RowAudit, cited: list[tuple[Resolution, str, int]]) -> None:
    for resolution, file, line in cited:
        if resolution.citation.placeholder:
            audit.reasons.append(Reason(f"placeholder, not a path: {resolution.citation.text}", file, line))
        for missing in resolution.missing:
            audit.reasons.append(Reason(f"cited but missing: {missing}", file, line))
        for outside in resolution.outside:
            audit.reasons.append(Reason(f"cited path outside the workspace: {outside}", file, line))
