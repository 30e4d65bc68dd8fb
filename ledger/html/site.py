"""The static dashboard site (`ledger html`): renders the pages' data (ledger.html.pages)
and writes them.

No Click here. Pages are rendered from `templates/html/*.html.j2` (overridable
per workspace) by a Jinja2 environment with autoescape on, so plan text can
never inject markup. Links to evidence are relative to each page, so the site
works from a checkout or from a CI artifact that keeps the workspace layout.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from ledger.documents.citations import is_inside
from ledger.errors import BadInput
from ledger.html.charts import format_duration
from ledger.html.pages import AUDIT_CLASSES, INITIATIVE_DIR, STATES, PageData
from ledger.html.text import markdown_block, markdown_inline
from ledger.reading.gcpause import cyclic_gc_paused
from ledger.render import Renderer
from ledger.workspace import Workspace


def html_environment(ws: Workspace):
    """Jinja2 with autoescape on, over the workspace's templates then the packaged ones."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    # A workspace's page templates are sandboxed like every workspace template (ledger.render).
    # Without any, every page template is ledger's own code: the sandbox's check of each
    # attribute and call, a third of the rendering time, would guard nothing.
    overridden = os.path.lexists(ws.templates_dir / "html")
    env = (SandboxedEnvironment if overridden else jinja2.Environment)(
        loader=jinja2.FileSystemLoader(Renderer(ws.templates_dir).search_path),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = format_duration
    env.filters["code"] = markdown_inline  # its name before plan text was rendered as Markdown
    env.filters["markdown"] = markdown_inline
    env.filters["markdown_block"] = markdown_block
    return env


def _render_page(env, name: str, **context) -> str:
    """A broken or sandbox-violating page template is one BadInput line, never a traceback."""
    import jinja2

    from ledger.render import template_error

    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise template_error(exc, name) from None


def default_out_dir(ws: Workspace) -> Path:
    return ws.root / "site"


def _check_out_dir(ws: Workspace, out_dir: Path) -> Path:
    out_dir = out_dir.resolve()
    if out_dir == ws.root or out_dir in ws.root.parents:
        raise BadInput(
            f"refusing to write the site into {out_dir}: it holds the workspace; name a sub-folder with -o"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInput(f"-o {out_dir} exists and is not a folder")
    return out_dir


def build_site(ws: Workspace, out_dir: Path | None = None, now: datetime | None = None) -> dict:
    """Write index.html and one page per initiative under `out_dir`; return what was written."""
    out_dir = _check_out_dir(ws, out_dir or default_out_dir(ws))
    builder = PageData(ws, out_dir)
    # Paused while rendering too: the pages' data stays alive to the end, and the collector
    # re-scanned all of it for the short-lived strings of each page (a quarter of the rendering).
    with cyclic_gc_paused():
        initiatives = [builder.initiative(name) for name in ws.initiatives()]
        index = builder.index(initiatives)
        written = _write_pages(ws, out_dir, initiatives, index, now)
    return {
        "out_dir": str(out_dir),
        "pages": [ws.relative(p) if is_inside(ws.root, p) else str(p) for p in written],
        "initiatives": len(initiatives),
        "rows": index["total"],
        "runs": index["runs"],
    }


def _write_pages(
    ws: Workspace, out_dir: Path, initiatives: list[dict], index: dict, now: datetime | None
) -> list[Path]:
    env = html_environment(ws)
    generated = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    common = {
        "workspace": ws.root.name,
        "generated": generated,
        "ledger_file": ws.relative(ws.ledger_path),
        "audit_classes": AUDIT_CLASSES,
        "states": STATES,
        "guardrail": {
            "warn": ws.config.guardrail_warn,
            "fail": ws.config.guardrail_fail,
            "runs": ws.config.baseline_runs,
        },
    }
    written: list[Path] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INITIATIVE_DIR).mkdir(exist_ok=True)
    index_path = out_dir / "index.html"
    _write(index_path, _render_page(env, "html/index.html.j2", **common, index=index, base=""))
    written.append(index_path)
    for item in initiatives:
        page = out_dir / item["page"]
        _write(
            page,
            _render_page(
                env, "html/initiative.html.j2", **common, item=item, index=index, base="../"
            ),
        )
        written.append(page)
    return written


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
