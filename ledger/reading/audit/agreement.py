"""Plan and ledger disagreeing about a row: open in the plan while the ledger's own
checklist (`## Completed Items`, `## TODOs`) ticks it `[x]`, or the reverse."""

from __future__ import annotations

from typing import NamedTuple

from ledger.documents.fix_plan import LedgerDoc
from ledger.documents.states import RowState
from ledger.reading.audit.model import Issue, IssueKind
from ledger.workspace import Workspace


class PlanRow(NamedTuple):
    """What the comparison needs of a plan row: plain data, so a worker process of a
    parallel audit can send it back (ledger.reading.audit.fork)."""

    qualified_id: str
    state: RowState | None
    state_token: str
    file: str  # workspace-relative
    line: int


def plan_rows_by_id(ws: Workspace, initiative: str) -> dict[str, list[PlanRow]]:
    """The rows of the initiative's plan files (the ledger's own rows cannot disagree with
    themselves), by row id; parses the plans (the first reader of them in an audit)."""
    by_id: dict[str, list[PlanRow]] = {}
    for plan in ws.plans(initiative):
        if plan.from_ledger:
            continue
        file = ws.relative(plan.path)  # a plan's rows are all in its file
        for row in plan.rows:
            by_id.setdefault(row.id, []).append(
                PlanRow(row.qualified_id, row.state, row.state_token, file, row.line)
            )
    return by_id


def plan_ledger_disagreements(
    ws: Workspace,
    ledger: LedgerDoc,
    initiatives: list[str],
    plan_rows: dict[str, dict[str, list[PlanRow]]] | None = None,
) -> list[Issue]:
    """One failing issue per ledger checklist item whose done-ness differs from the plan
    row it names: `<initiative>.<row>: …`, or a bare `<row>: …` when exactly one
    initiative's plan has that row id (the loop writes `S4:` for its seed plan's rows).
    `plan_rows`: each initiative's `plan_rows_by_id`, when the caller has them."""
    if plan_rows is None:
        plan_rows = {name: plan_rows_by_id(ws, name) for name in initiatives}
    ledger_file = ws.relative(ws.ledger_path)
    issues: list[Issue] = []
    for item in ledger.checklist:
        named = [
            (name, cited)
            for name in initiatives
            if (cited := item.row_of(name)) is not None and cited in plan_rows[name]
        ]
        if not named:
            named = [
                (name, item.subject) for name in initiatives if item.subject in plan_rows[name]
            ]
            if len(named) != 1:
                continue  # a bare id no plan has, or several: nothing to compare it with
        for name, row_id in named:
            rows = plan_rows[name][row_id]
            ledger_state = ws.config.states.classify(item.token)
            if ledger_state is None:
                continue
            for row in rows:
                if row.state is None or (row.state == RowState.DONE) == (
                    ledger_state == RowState.DONE
                ):
                    continue
                section = f"## {item.section}" if item.section else "checklist"
                issues.append(
                    Issue(
                        IssueKind.PLAN_LEDGER,
                        f"{name} {row.qualified_id}: {row.state_token} ({row.state}) in "
                        f"{row.file}:{row.line} but {item.token} ({ledger_state}) in the ledger's {section}",
                        ledger_file,
                        item.line,
                        name,
                        failing=True,
                    )
                )
    return issues
