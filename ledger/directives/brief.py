"""`ledger brief`: a supervisor directive (input.md) for one row, rendered from its template."""

from __future__ import annotations

import re
import shlex
from datetime import datetime

from ledger.documents.directive import DirectiveMode, mode_name
from ledger.documents.states import RowState
from ledger.errors import BadInput
from ledger.markdown.text import SourceText
from ledger.running.git_commit import current_branch

_ATTEMPT_PREFIX = re.compile(
    r"^[\s*+-]*(?:\*\*)?\[[^\]]*\](?:\*\*)?\s+(?:\*\*)?Attempt\s+#\d+(?:\*\*)?\s*[—–:-]*\s*"
    # A global history heading, `### <ISO> — <ID>.<row> (label)`: its date is shown on its own.
    r"|^#+\s*(?:\d{4}-\d{2}-\d{2}\S*\s+[—–-]+\s+)?"
)


def infer_mode(has_selector: bool) -> DirectiveMode:
    return DirectiveMode.TDD if has_selector else DirectiveMode.NONE


def brief_context(
    ws, initiative: str, row_ref: str, mode: str | None, now: datetime, attempts_shown: int = 3
) -> dict:
    from ledger.documents.findings import find_citations, load_findings
    from ledger.documents.fix_plan import parse_ledger
    from ledger.errors import UnsafeSelector
    from ledger.running.evidence import phase_slug, plan_report_dir
    from ledger.running.row_selector import resolve_selector

    row = ws.find_row(initiative, row_ref)
    rows = ws.rows(initiative)
    reference = row.ref
    plan = next(p for p in ws.plans(initiative) if p.path == row.path)

    selector = selector_problem = None
    env: dict[str, str] = {}
    try:
        resolved = resolve_selector(ws, row, None)
    except UnsafeSelector as exc:
        if exc.refused:
            raise  # a directive must not hand a refused selector to an engineer to run by hand
        selector_problem = exc.message
    except BadInput as exc:
        selector_problem = exc.message
    else:
        selector, env = resolved.selector.display, resolved.env

    report_dir = plan_report_dir(ws.report_root(initiative), phase_slug(row, None), now)

    findings_doc = load_findings(ws.findings_path)
    cited: dict[str, dict] = {}
    for path in ws.plan_files(initiative):
        for citation in find_citations(
            SourceText.read(path).text, path, findings_doc.categories, frozenset(ws.initiatives())
        ):
            finding = findings_doc.findings.get(citation.id)
            cited.setdefault(
                citation.id,
                {
                    "id": citation.id,
                    "known": finding is not None,
                    "synopsis": finding.synopsis if finding else "",
                    "line": finding.line if finding else None,
                    "cited_at": f"{ws.relative(citation.path)}:{citation.line}",
                },
            )

    attempts, item_line = [], None
    if ws.ledger_path.exists():
        doc = parse_ledger(SourceText.read(ws.ledger_path))
        item = doc.items.get(initiative)
        item_line = item.line if item else None
        for attempt in doc.timeline_for(initiative)[-attempts_shown:]:
            first = _ATTEMPT_PREFIX.sub("", attempt.text.split("\n", 1)[0]).strip()
            attempts.append(
                {
                    "number": attempt.number,
                    "date": attempt.date,
                    "line": attempt.line,
                    "text": first,
                }
            )

    position = rows.index(row)
    next_rows = [r for r in rows[position + 1 :] if r.state != RowState.DONE][:2]
    phase = row.phase
    chosen_mode = mode_name(mode) if mode else infer_mode(selector is not None)
    if mode and chosen_mode is None:
        raise BadInput(f"unknown --mode {mode!r} (use one of {', '.join(DirectiveMode)})")
    title = plan.title or initiative
    if title.startswith(initiative):
        title = title[len(initiative) :].lstrip(" —–-:") or title
    return {
        "initiative": initiative,
        "row": reference,
        "row_label": row.label,
        "description": row.description,
        "state_token": row.state_token,
        "state": row.state,
        "plan_title": title,
        "plan_path": ws.relative(row.path),
        "plan_line": row.line,
        "phase_title": phase.title if phase else None,
        "phase_line": phase.line if phase else None,
        "mode": chosen_mode,
        "branch": current_branch(ws.root),
        "selector": selector,
        "selector_problem": selector_problem,
        "env": env,
        "env_text": ", ".join(
            f"`{k}={shlex.quote(v) if v else chr(34) * 2}`" for k, v in env.items()
        ),
        "artifacts": ws.relative(report_dir.path) + "/",
        "findings": list(cited.values()),
        "findings_path": ws.relative(ws.findings_path),
        "ledger_path": ws.relative(ws.ledger_path),
        "ledger_item_line": item_line,
        "attempts": attempts,
        "next_rows": [
            {
                "id": r.ref,
                "description": r.description,
                "plan_path": ws.relative(r.path),
                "plan_line": r.line,
                "state_token": r.state_token,
            }
            for r in next_rows
        ],
        "done_token": ws.config.states.write_done,
        "partial_token": ws.config.states.write_partial,
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def render_brief(ws, context: dict) -> str:
    from ledger.render import Renderer, render_reported

    return render_reported(Renderer(ws.templates_dir), "input.md.j2", **context)
