"""`ledger new`: an initiative's plan file and its ledger item, never overwriting either."""

from __future__ import annotations

from ledger.editing.init import ScaffoldResult, confined_plan_root
from ledger.editing.locking import workspace_lock
from ledger.editing.writes import write_atomic, write_bytes_atomic
from ledger.errors import BadInput
from ledger.markdown.splice import Splice, apply_splices
from ledger.render import Renderer, render_reported
from ledger.running.evidence import utc_now


def new_initiative(ws, initiative: str, title: str, lock_timeout_s: float = 10.0) -> ScaffoldResult:
    from ledger.documents.fix_plan import LedgerLayout, parse_ledger
    from ledger.markdown.text import SourceText, dominant_eol

    ws.check_initiative_id(initiative)
    title = " ".join(title.split())
    if not title:
        raise BadInput("--title must not be empty")
    result = ScaffoldResult(ws.root)
    renderer = Renderer(ws.templates_dir)
    folder = confined_plan_root(ws) / initiative
    plan_path = folder / "implementation.md"
    context = {
        "initiative": initiative,
        "title": title,
        "date": utc_now().strftime("%Y-%m-%d"),
        "plan_path": ws.relative(plan_path),
        "ledger_path": ws.relative(ws.ledger_path),
        "findings_path": ws.relative(ws.findings_path),
        "report_root": ws.relative(ws.report_root(initiative)),
    }
    with workspace_lock(ws.root, lock_timeout_s):
        for plan_root in ws.config.plan_roots:
            existing = ws.root / plan_root / initiative
            if existing.is_dir() and any(existing.glob("*.md")):
                raise BadInput(
                    f"initiative {initiative} already has a plan folder", ws.relative(existing)
                )
        plan_text = render_reported(renderer, "plan.md.j2", **context)
        item_lines = (
            render_reported(renderer, "ledger_item.md.j2", **context).rstrip("\r\n").splitlines()
        )
        write_bytes_atomic(plan_path, plan_text.encode("utf-8"))
        result.created.append(ws.relative(plan_path))

        path = ws.ledger_path
        if not path.exists():
            text = (
                renderer.render("fix_plan.md.j2").rstrip("\n")
                + "\n\n"
                + "\n".join(item_lines)
                + "\n"
            )
            write_bytes_atomic(path, text.encode("utf-8"))
            result.created.append(ws.relative(path))
            return result
        source = SourceText.read(path)
        doc = parse_ledger(source)
        if initiative in doc.items:
            result.kept.append(f"{ws.relative(path)}:{doc.items[initiative].line}")
            return result
        if doc.layout == LedgerLayout.GLOBAL:
            result.notes.append(
                f"{ws.relative(path)} keeps one global Attempts History, not per-initiative items; no item added"
            )
            return result
        lines = source.lines()
        eol = dominant_eol(lines) if lines else "\n"
        body = source.text.rstrip("\r\n")
        # Append after the last non-blank line with exactly one blank line between.
        gap = eol + eol if body else ""
        splice = Splice(len(body), len(source.text), gap + eol.join(item_lines) + eol)
        write_atomic(path, apply_splices(source.text, [splice]), source.sha256)
        heading_line = body.count("\n") + 3 if body else 1
        result.updated.append(f"{ws.relative(path)}:{heading_line}")
    return result
