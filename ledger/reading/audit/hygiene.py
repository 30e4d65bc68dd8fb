"""Workspace-wide bookkeeping problems: attempt numbering, dangling citations, orphans, stray logs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.documents.fix_plan import LedgerDoc
from ledger.reading.audit.context import InitiativeEvidence
from ledger.reading.audit.integrity import FolderStatus, IntegrityChecker
from ledger.reading.audit.model import Issue, IssueKind
from ledger.running.evidence import VERIFY_TOOL
from ledger.workspace import Workspace

# A report folder in one of these states fails the audit as this issue.
_FAILING_FOLDER_ISSUES = {
    FolderStatus.TAMPERED: IssueKind.TAMPERED_REPORT,
    FolderStatus.MISSING: IssueKind.MISSING_EVIDENCE,
}


def attempt_numbering(ws: Workspace, ledger: LedgerDoc) -> list[Issue]:
    """Duplicate numbers and gaps within each item's Attempts History (the global layout has no numbers)."""
    issues: list[Issue] = []
    file = ws.relative(ws.ledger_path)
    for item in ledger.items.values():
        seen: dict[int, int] = {}
        for attempt in item.attempts:
            if attempt.number is None:
                continue
            if attempt.number in seen:
                issues.append(
                    Issue(
                        IssueKind.ATTEMPT_NUMBERS,
                        f"[{item.id}] Attempt #{attempt.number} appears twice (first at line {seen[attempt.number]})",
                        file,
                        attempt.line,
                        item.id,
                    )
                )
            else:
                seen[attempt.number] = attempt.line
        if seen:
            numbers = sorted(seen)
            missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
            if missing:
                shown = ", ".join(f"#{n}" for n in missing[:10]) + (
                    " …" if len(missing) > 10 else ""
                )
                issues.append(
                    Issue(
                        IssueKind.ATTEMPT_NUMBERS,
                        f"[{item.id}] attempt numbers skip {shown}",
                        file,
                        item.line,
                        item.id,
                    )
                )
    for item_id, first, repeat in ledger.duplicate_items:
        issues.append(
            Issue(
                IssueKind.LEDGER_ITEM,
                f"item [{item_id}] appears twice (first at line {first})",
                file,
                repeat,
                item_id,
            )
        )
    return issues


def items_without_plans(ws: Workspace, ledger: LedgerDoc, initiatives: list[str]) -> list[Issue]:
    """Ledger items whose initiative has no plan folder: their attempts cannot be tied to rows."""
    roots = " or ".join(ws.config.plan_roots)
    return [
        Issue(
            IssueKind.LEDGER_ITEM,
            f"[{item.id}] has no plan folder under {roots}; its {len(item.attempts)} attempts were not checked against evidence",
            ws.relative(ws.ledger_path),
            item.line,
            item.id,
        )
        for item in ledger.items.values()
        if item.id not in initiatives
    ]


def attempt_citations(ws: Workspace, context: InitiativeEvidence) -> list[Issue]:
    issues: list[Issue] = []
    file = ws.relative(ws.ledger_path)
    for evidence in context.attempts:
        label = (
            f"Attempt #{evidence.attempt.number}"
            if evidence.attempt.number is not None
            else f"attempt of {evidence.attempt.date}"
        )
        for resolution in evidence.resolutions:
            citation = resolution.citation
            if citation.placeholder:
                issues.append(
                    Issue(
                        IssueKind.PLACEHOLDER,
                        f"{label} cites a placeholder, not a path: {citation.text}",
                        file,
                        citation.line,
                        context.initiative,
                    )
                )
            for missing in resolution.missing:
                issues.append(
                    Issue(
                        IssueKind.MISSING_ARTIFACT,
                        f"{label} cites {missing}, which does not exist",
                        file,
                        citation.line,
                        context.initiative,
                    )
                )
            for outside in resolution.outside:
                issues.append(
                    Issue(
                        IssueKind.MISSING_ARTIFACT,
                        f"{label} cites {outside}, outside the workspace",
                        file,
                        citation.line,
                        context.initiative,
                    )
                )
    return issues


def unknown_findings(ws: Workspace, initiatives: list[str]) -> list[Issue]:
    return [issue for found in unknown_findings_by_initiative(ws, initiatives) for issue in found]


def unknown_findings_by_initiative(ws: Workspace, initiatives: list[str]) -> list[list[Issue]]:
    """`unknown_findings`, one list per initiative (in the order given), each of its plans' citations of undefined findings."""
    from ledger.documents.findings import load_findings, workspace_citations

    doc = load_findings(ws.findings_path)
    findings_file = ws.relative(ws.findings_path)
    defined_where = (
        f"{findings_file} does not define"
        if ws.findings_path.exists()
        else f"there is no {findings_file} to define"
    )
    not_findings = frozenset(ws.initiatives())
    return [
        [
            Issue(
                IssueKind.UNKNOWN_FINDING,
                f"cites {citation.id}; {defined_where} it",
                ws.relative(citation.path),
                citation.line,
            )
            for citation in workspace_citations(ws, doc, [name], not_findings)
            if citation.id not in doc.findings
        ]
        for name in initiatives
    ]


def evidence_leaves(context: InitiativeEvidence) -> list[Path]:
    """`<TS>/<slug>/` folders, or `<TS>/` itself when it holds files only (hand-made hubs)."""
    leaves: list[Path] = []
    for ts_dir, children in context.timestamp_folders:
        leaves.extend(children if children else [ts_dir])
    return leaves


def covered_folders(cited_paths: Iterable[Path | str]) -> set[str]:
    """Every cited path and all its ancestors, as strings: a folder is cited when anything inside it is.

    Strings, not Paths: an audit walks tens of thousands of parents, and pathlib's
    parsing was a tenth of its time.
    """
    covered: set[str] = set()
    for path in cited_paths:
        folder = str(path)
        while folder not in covered:
            covered.add(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return covered


@dataclass
class Leaf:
    """An evidence leaf as the orphan test needs it (plain data: a worker process of a
    parallel audit sends it back), with the issues its manifest raises."""

    folder: str  # str(the leaf's Path)
    parent: str  # str(its parent's Path): a cited `<TS>/` covers its leaves
    rel: str  # workspace-relative, with a trailing /
    # A `ledger verify` record cites the run it re-ran; nothing needs to cite it.
    verification: bool
    damage: list[Issue]  # incomplete, unsealed, future, tampered, missing: cited or not


def report_leaves(
    ws: Workspace, context: InitiativeEvidence, checker: IntegrityChecker
) -> list[Leaf]:
    """Every evidence leaf of the initiative, with what its manifest shows: incomplete or no
    longer matching. Needs nothing of the other initiatives (orphans_and_damage does)."""
    leaves: list[Leaf] = []
    live = None  # report folders a running `ledger do` is writing, read at the first incomplete one
    for leaf in evidence_leaves(context):
        rel = ws.relative(leaf) + "/"
        has_manifest = checker.has_manifest(str(leaf))
        verification = (
            has_manifest and (checker.check(leaf).manifest or {}).get("tool") == VERIFY_TOOL
        )
        damage: list[Issue] = []
        if has_manifest:
            check = checker.check(leaf)
            if check.status == FolderStatus.UNSEALED:
                damage.append(
                    Issue(
                        IssueKind.UNSEALED_REPORT,
                        f"{rel}: " + "; ".join(check.problems),
                        initiative=context.initiative,
                    )
                )
            elif (
                check.status == FolderStatus.INTACT
                and check.outcome
                and context.cross.is_future(check)
            ):
                damage.append(
                    Issue(
                        IssueKind.FUTURE_REPORT,
                        f"{rel}: recorded in the future (started_at {(check.manifest or {}).get('started_at')}); never counted as the newest run",
                        initiative=context.initiative,
                        failing=True,
                    )
                )
            if check.status == FolderStatus.INCOMPLETE:
                if live is None:
                    from ledger.editing.repair import live_run_folders

                    live = live_run_folders(ws.root)
                damage.append(
                    Issue(
                        IssueKind.INCOMPLETE_REPORT,
                        f"{rel} {incomplete_state(check.manifest or {}, rel.rstrip('/') in live)}",
                        initiative=context.initiative,
                    )
                )
            elif check.status in _FAILING_FOLDER_ISSUES:
                damage.append(
                    Issue(
                        _FAILING_FOLDER_ISSUES[check.status],
                        f"{rel}: " + "; ".join(check.problems),
                        initiative=context.initiative,
                        failing=True,
                    )
                )
        leaves.append(Leaf(str(leaf), str(leaf.parent), rel, bool(verification), damage))
    return leaves


def orphans_and_damage(
    initiative: str, leaves: list[Leaf], cited_paths: set[str], covered: set[str]
) -> list[Issue]:
    """Report folders nothing cites (`cited_paths`: every initiative's, as text; `covered`:
    their `covered_folders`), and manifests that are incomplete or no longer match, leaf by leaf."""
    issues: list[Issue] = []
    for leaf in leaves:
        if leaf.folder not in covered and leaf.parent not in cited_paths and not leaf.verification:
            issues.append(
                Issue(
                    IssueKind.ORPHAN_REPORT,
                    f"{leaf.rel} is cited by no row, attempt or plan text",
                    initiative=initiative,
                )
            )
        issues += leaf.damage
    return issues


def incomplete_state(manifest: dict, running: bool) -> str:
    """What a `"complete": false` folder is: being written, abandoned by `ledger repair`, or
    left by a killed run that repair has yet to mark."""
    abandoned = manifest.get("abandoned")
    if isinstance(abandoned, dict):
        return (
            f"is an abandoned run (manifest complete=false: {abandoned.get('why', 'never finished')}; "
            f"marked {abandoned.get('at', '?')}); never counted as evidence"
        )
    if running:
        return "is being written by a running ledger do (manifest complete=false until it records its run)"
    return (
        "is a half-written run (manifest complete=false) that no running ledger do owns; "
        "ledger repair marks it abandoned"
    )


def root_logs(ws: Workspace) -> list[Issue]:
    return [
        Issue(
            IssueKind.ROOT_LOG,
            f"{path.name} left at the workspace root; evidence belongs in a report folder",
            path.name,
        )
        for path in sorted(ws.root.glob("*.log"))
        if path.is_file()
    ]


def temp_leftovers(
    ws: Workspace, stamp_leftovers: Mapping[str, list[Path]] | None = None
) -> list[Issue]:
    """Temp files and half-built report folders a killed ledger left (the next writing
    command removes those beside plans and the ledger). `stamp_leftovers`: the audit's, by
    initiative (InitiativeEvidence.stamp_leftovers), when they are every initiative's; their
    report folders were listed once already."""
    from ledger.editing.tempfiles import find_leftovers
    from ledger.running.evidence import timestamp_folders

    initiatives = ws.initiatives()
    if stamp_leftovers and list(stamp_leftovers) == initiatives:
        found = find_leftovers(ws.root) + [
            path for paths in stamp_leftovers.values() for path in paths
        ]
    else:
        stamps = []
        for initiative in initiatives:
            try:
                stamps += [stamp for stamp, _ in timestamp_folders(ws.report_root(initiative))]
            except Exception:
                continue
        found = find_leftovers(ws.root, stamps)
    return [
        Issue(
            IssueKind.TEMP_LEFTOVER,
            # The path is the issue's file, printed before the message.
            f"a temp {'folder' if path.is_dir() else 'file'} a killed ledger left; the next writing command removes it",
            ws.relative(path),
        )
        for path in found
    ]


def half_recorded_runs(ws: Workspace) -> list[Issue]:
    from ledger.editing.repair import BY_HAND, journal_path, read_journal, unusable_entry

    journal = journal_path(ws.root)
    if not journal.exists():
        return []
    entry = read_journal(ws.root) or {}
    unusable = unusable_entry(entry, ws.root) if entry else None
    if unusable:
        return [
            Issue(
                IssueKind.HALF_RECORDED_RUN,
                f"the journal of a half-recorded run {unusable}, so ledger repair cannot complete "
                f"it; {BY_HAND}",
                ws.relative(journal),
                failing=True,
            )
        ]
    return [
        Issue(
            IssueKind.HALF_RECORDED_RUN,
            # The folder is the issue's file, printed before the message.
            "a killed ledger do left this run half-recorded (row flip or attempt missing); "
            "ledger repair (or any writing command) completes it",
            entry.get("folder"),
            failing=True,
        )
    ]
