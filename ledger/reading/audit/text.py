"""The audit as a readable report: counts per class, then the rows and issues worth a look."""

from __future__ import annotations

from ledger.reading.audit.model import (
    EXPLAIN,
    FAILING,
    AuditClass,
    AuditReport,
    IssueKind,
    class_counts,
)
from ledger.running.outcome import TddStep


def counts_line(counts: dict[str, int]) -> str:
    return " · ".join(
        f"{name} {counts[name]}"
        for name in AuditClass
        if counts[name] or name not in (AuditClass.UNKNOWN, AuditClass.MISSING)
    )


def explain_lines() -> list[str]:
    """`ledger audit --explain`: each class and exactly what it proves."""
    import textwrap

    lines = []
    for name, text in EXPLAIN.items():
        lines.append(name)
        lines += textwrap.wrap(text, 92, initial_indent="  ", subsequent_indent="  ")
        lines.append("")
    return lines


def audit_lines(
    report: AuditReport,
    strict: bool = False,
    show_all: bool = False,
    max_issues: int = 20,
    require_attested: bool = False,
) -> list[str]:
    lines: list[str] = (
        [f"changed since {report.since}: {len(report.rows)} rows", ""] if report.since else []
    )
    flagged = FAILING | ({AuditClass.EVIDENCED} if strict else set())
    failing_ids = {id(row) for row in report.failing_rows(strict, require_attested)}
    by_initiative = report.rows_by_initiative()
    for initiative in report.initiatives:
        rows = by_initiative[initiative]
        lines.append(f"{initiative}  ({len(rows)} rows)")
        lines.append(f"  {counts_line(class_counts(rows))}")
        shown = (
            rows
            if show_all
            else [
                r
                for r in rows
                if r.audit in flagged
                or r.audit in (AuditClass.VERIFIED, AuditClass.EVIDENCED, AuditClass.UNKNOWN)
            ]
        )
        if shown:
            width = max(len(r.qualified_id) for r in shown)
            for row in shown:
                mark = "!" if id(row) in failing_ids else " "
                first = str(row.reasons[0]) if row.reasons else ""
                lines.append(
                    f"  {mark} {row.audit:<12} {row.qualified_id:<{width}} {row.token or '?':<5} {first}"
                )
                if row.label != row.audit:
                    lines.append(f"  {'':<14} {'':<{width}} {'':<5} {row.label}")
                if row.tdd:
                    pair = f"tdd: red {row.tdd[TddStep.RED]} -> green {row.tdd[TddStep.GREEN] or '(not yet)'}"
                    lines.append(f"  {'':<14} {'':<{width}} {'':<5} {pair}")
                if row.stale and row.audit not in flagged:
                    lines += [
                        f"  {'':<14} {'':<{width}} {'':<5} {r}"
                        for r in row.reasons
                        if r.message.startswith("stale: ")
                    ]
                for reason in row.reasons[1:4] if row.audit in flagged else []:
                    lines.append(f"  {'':<14} {'':<{width}} {'':<5} {reason}")
                if row.audit in flagged and len(row.reasons) > 4:
                    lines.append(
                        f"  {'':<14} {'':<{width}} {'':<5} … {len(row.reasons) - 4} more (--json)"
                    )
        lines.append("")
    by_kind: dict[str, list] = {}
    for issue in report.issues:
        by_kind.setdefault(issue.kind, []).append(issue)
    for kind in IssueKind:
        issues = by_kind.get(kind, [])
        if not issues:
            continue
        lines.append(f"{kind.heading} ({len(issues)})")
        for issue in issues[:max_issues]:
            lines.append(f"  {'!' if issue.failing else '-'} {issue}")
        if len(issues) > max_issues:
            lines.append(f"  … {len(issues) - max_issues} more (--json)")
        lines.append("")
    code = report.exit_code(strict, require_attested)
    total = counts_line(report.counts())
    lines.append(f"total: {total}")
    attested = sum(1 for r in report.rows if r.attested_by)
    reproduced = sum(1 for r in report.rows if r.reproduction and not r.not_reproduced)
    not_reproduced = sum(1 for r in report.rows if r.not_reproduced)
    if attested or reproduced or not_reproduced or require_attested:
        lines.append(
            f"of verified: attested {attested} · reproduced {reproduced} · not reproduced {not_reproduced}"
        )

    def why(row) -> str:
        if row.audit in flagged:
            return row.audit
        if row.not_reproduced:
            return "not reproduced"
        return "stale" if strict and row.stale else "not attested"

    lines.append(
        "verdict: FAIL ("
        + ", ".join(
            sorted(
                {why(r) for r in report.failing_rows(strict, require_attested)}
                | {i.kind for i in report.issues if i.failing}
            )
        )
        + ")"
        if code
        else "verdict: ok" + (" (strict)" if strict else "")
    )
    return lines
