"""The audit class of one plan row."""

from __future__ import annotations

from pathlib import Path

from ledger.documents.citations import Resolution
from ledger.documents.plan import Row
from ledger.documents.states import RowState
from ledger.reading.audit.context import InitiativeEvidence
from ledger.reading.audit.integrity import FolderStatus
from ledger.reading.audit.model import (
    AuditClass,
    Reason,
    RowAudit,
)
from ledger.running.outcome import Outcome, TddStep, red_green_pair, row_state_after


def classify_row(context: InitiativeEvidence, row: Row) -> RowAudit:
    ws = context.ws
    plan_file = context.relative(row.path)
    audit = RowAudit(
        initiative=context.initiative,
        row=row.id,
        qualified_id=row.display_id,
        description=row.description,
        state=row.state,
        token=row.state_token,
        file=plan_file,
        line=row.line,
        audit=AuditClass.UNKNOWN,
    )
    own = context.row_resolutions(row)
    attempts = context.attempts_naming(row)
    cited: list[tuple[Resolution, str, int]] = [(r, plan_file, r.citation.line) for r in own]
    ledger_file = context.relative(ws.ledger_path)
    for attempt in attempts:
        cited += [(r, ledger_file, r.citation.line) for r in attempt.resolutions]
    foreign: list[tuple[Path, str]] = []
    cited_folders = context.manifest_folders([r for r, _, _ in cited], row, foreign)
    folders = cited_folders | set(context.recorded_folders(row))
    checks = sorted((context.checker.check(f) for f in folders), key=lambda c: c.sort_key)
    cross = context.cross

    def rel(folder: Path) -> str:
        return context.relative(folder) + "/"

    for folder, other in foreign:
        audit.reasons.append(
            Reason(f"cites {rel(folder)}, a run of row {other}: it proves that row, not this one")
        )
    tampered = [c for c in checks if c.status == FolderStatus.TAMPERED]
    # "Newest" is by recorded start; a run dated in the future is reported, never newest
    # (a folder named 2099 would otherwise hide every later real failure).
    runs = []
    for check in checks:
        if check.status == FolderStatus.INTACT and check.outcome:
            if cross.is_future(check):
                audit.reasons += [
                    Reason(f"{rel(check.folder)}: {f}")
                    for f in cross.run_failures(check)
                    if f.check == "times"
                ]
            else:
                runs.append(check)
    pair = red_green_pair([(check, check.outcome) for check in runs])
    if pair is not None:
        red, green = pair
        audit.tdd = {
            TddStep.RED: rel(red.folder),
            TddStep.GREEN: rel(green.folder) if green else None,
        }
    # Only an outcome that changes a row decides what "newest" says about it: an all-skipped
    # run, a collection or usage error (a tooling mistake) proves nothing either way.
    decisive = [c for c in runs if _decides(c.outcome)]
    newest = decisive[-1] if decisive else None
    for check in checks:
        if check.status == FolderStatus.INCOMPLETE:
            audit.reasons.append(
                Reason(f"{rel(check.folder)}: run never finished (manifest complete=false)")
            )
        elif check.status == FolderStatus.UNSEALED:
            audit.reasons += [Reason(f"{rel(check.folder)}: {p}") for p in check.problems]

    if tampered:
        audit.audit = AuditClass.TAMPERED
        for check in tampered:
            audit.evidence.append(rel(check.folder))
            audit.reasons += [Reason(f"{rel(check.folder)}{p}") for p in check.problems]
        return audit
    missing = [c for c in checks if c.status == FolderStatus.MISSING]
    for check in missing:
        audit.evidence.append(rel(check.folder))
        audit.reasons += [Reason(f"{rel(check.folder)}: {p}") for p in check.problems]
    if (
        missing
        and row.state == RowState.DONE
        and not any(c.outcome == Outcome.PASSED and c.folder in cited_folders for c in runs)
    ):
        audit.audit = AuditClass.MISSING
        return audit

    if row.state == RowState.DONE:
        if newest is not None and newest.outcome != Outcome.PASSED:
            audit.audit = AuditClass.CONTRADICTED
            audit.evidence.append(rel(newest.folder))
            why = (newest.manifest or {}).get("reason") or newest.outcome
            audit.reasons.insert(
                0,
                Reason(
                    f"marked {row.state_token} but the newest run {rel(newest.folder)} {newest.outcome}: {why}"
                ),
            )
            return audit
        cited_passing = [
            c for c in runs if c.outcome == Outcome.PASSED and c.folder in cited_folders
        ]
        if newest is not None and cited_passing:
            # The newest cited passing run whose record is consistent with itself, the row and the repository.
            failed_checks = {}
            for candidate in reversed(cited_passing):
                failures = cross.run_failures(candidate) + cross.row_failures(
                    candidate, row, plan_file
                )
                if not failures:
                    proof = candidate
                    break
                failed_checks[candidate.folder] = failures
            else:
                audit.audit = AuditClass.INCONSISTENT
                audit.evidence += [rel(c.folder) for c in cited_passing]
                first = cited_passing[-1]
                audit.reasons.insert(
                    0,
                    Reason(
                        f"passing run {rel(first.folder)} does not hold up: "
                        + "; ".join(str(f) for f in failed_checks[first.folder])
                    ),
                )
                for check in cited_passing[-2::-1]:
                    audit.reasons += [
                        Reason(f"{rel(check.folder)}: {f}") for f in failed_checks[check.folder]
                    ]
                return audit
            audit.audit = AuditClass.VERIFIED
            audit.proof = rel(proof.folder)
            audit.attested_by = proof.attested_by
            audit.evidence += [rel(c.folder) for c in cited_passing]
            audit.reasons.insert(
                0,
                Reason(
                    f"passing run with intact manifest, cross-checks passed: {rel(proof.folder)}"
                ),
            )
            audit.reasons += [
                Reason(f"{rel(c.folder)}{note}") for c in cited_passing for note in c.notes
            ]
            for folder, failures in failed_checks.items():
                audit.reasons += [
                    Reason(f"{rel(folder)} (newer, not counted): {f}") for f in failures
                ]
            audit.reproduction = context.reproduction(proof.folder)
            for result in audit.reproduction:
                if not result["reproduced"]:
                    audit.reasons.insert(
                        1,
                        Reason(
                            f"not reproduced{' at HEAD' if result['at'] == 'head' else ''}: {result['why']} ({result['folder']})"
                        ),
                    )
            return audit
        if newest is not None:
            audit.reasons.append(
                Reason(
                    f"a passing run {rel(newest.folder)} is recorded but neither the row nor an attempt cites it"
                )
            )
        existing = [(r, f, ln) for r, f, ln in cited if r.exists]
        if existing:
            audit.audit = AuditClass.EVIDENCED
            for resolution, _file, _line in existing:
                audit.evidence += [ws.relative(p) for p in resolution.existing]
            # Once each: the row and its attempts often cite the same file.
            audit.evidence = list(dict.fromkeys(audit.evidence))
            audit.reasons.insert(
                0,
                Reason(
                    f"cites existing evidence without an intact manifest: {', '.join(audit.evidence[:3])}"
                ),
            )
            _add_unresolved(audit, cited)
            return audit
        audit.audit = AuditClass.CLAIMED
        if not cited:
            audit.reasons.insert(
                0,
                Reason(
                    f"marked {row.state_token} but neither the row nor any attempt naming it cites evidence",
                    plan_file,
                    row.line,
                ),
            )
        else:
            audit.reasons.insert(
                0,
                Reason(
                    f"marked {row.state_token} but nothing it cites exists", plan_file, row.line
                ),
            )
        _add_unresolved(audit, cited)
        return audit

    if row.state == RowState.OPEN:
        if newest is not None and newest.outcome == Outcome.PASSED:
            audit.audit = AuditClass.CONTRADICTED
            audit.evidence.append(rel(newest.folder))
            audit.reasons.insert(
                0,
                Reason(
                    f"still {row.state_token} but its newest run {rel(newest.folder)} passed (stale state)",
                    plan_file,
                    row.line,
                ),
            )
            return audit
        audit.audit = AuditClass.OPEN
        return audit
    if row.state == RowState.PARTIAL:
        audit.audit = AuditClass.PARTIAL
        if newest is not None:
            audit.evidence.append(rel(newest.folder))
            audit.reasons.append(Reason(f"newest run {rel(newest.folder)}: {newest.outcome}"))
        return audit
    audit.reasons.append(
        Reason(f"state cell {row.state_token!r} is not a known state", plan_file, row.line)
    )
    return audit


def _decides(outcome) -> bool:
    if Outcome.known(outcome) is None:
        return True  # an outcome of an older ledger: as before, anything but a pass counts against
    return row_state_after(outcome) is not None


def _add_unresolved(audit: RowAudit, cited: list[tuple[Resolution, str, int]]) -> None:
    for resolution, file, line in cited:
        if resolution.citation.placeholder:
            audit.reasons.append(
                Reason(f"placeholder, not a path: {resolution.citation.text}", file, line)
            )
        for missing in resolution.missing:
            audit.reasons.append(Reason(f"cited but missing: {missing}", file, line))
        for outside in resolution.outside:
            audit.reasons.append(Reason(f"cited path outside the workspace: {outside}", file, line))
