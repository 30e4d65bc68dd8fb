"""Jinja2 rendering of everything ledger writes, overridable per workspace."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ledger.markdown.table import escape_cell_text

# The packaged templates. In the repository `ledger/_templates` is a symbolic link to the
# top-level `templates/`; a wheel copies the files through it, so an installed ledger (pipx,
# `pip install .`) finds them inside the package, as a checkout or an editable install does.
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "_templates"


def code_span(text: str) -> str:
    """Wrap text in a backtick fence longer than any backtick run inside it."""
    longest = 0
    run = 0
    for ch in str(text):
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if str(text).startswith("`") or str(text).endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def one_line(text: str) -> str:
    return " ".join(str(text).split())


class Renderer:
    def __init__(self, workspace_templates: Path | None = None):
        self.search_path = [
            str(p) for p in (workspace_templates, PACKAGE_TEMPLATES) if p is not None and p.is_dir()
        ]

    @cached_property
    def environment(self):
        import jinja2
        from jinja2.sandbox import SandboxedEnvironment

        # Workspace templates are as hostile as plan text: sandboxed, a template cannot
        # reach Python internals (`cycler.__init__.__globals__.os`) and run code.
        env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(self.search_path),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )
        env.filters["cell"] = escape_cell_text
        env.filters["code"] = code_span
        env.filters["one_line"] = one_line
        return env

    def require(self, names: list[str]) -> None:
        """Refuse (BadInput) when a template is in no folder of the search path; checks files
        only, so it costs no Jinja2 import (`ledger do` calls it before running anything)."""
        from ledger.errors import BadInput

        for name in names:
            if not any((Path(folder) / name).is_file() for folder in self.search_path):
                places = " or ".join(self.search_path) or f"{PACKAGE_TEMPLATES} (missing)"
                raise BadInput(f"template {name} not found in {places}")

    def load(self, names: list[str]) -> None:
        """Compile `names` now (they are cached): `ledger do` does this while the tests run."""
        for name in names:
            self.environment.get_template(name)

    def render(self, name: str, **context) -> str:
        """Render `name`; a broken (often workspace-edited) or sandbox-violating template is
        one BadInput line naming the template file and line, never a traceback."""
        import jinja2

        try:
            return self.environment.get_template(name).render(**context)
        except jinja2.TemplateError as exc:
            raise template_error(exc, name) from None

    def render_lines(self, name: str, **context) -> list[str]:
        """A rendered entry as lines, without trailing blank lines."""
        lines = self.render(name, **context).splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        return lines


def render_reported(renderer: Renderer, name: str, **context) -> str:
    """Render `name` (kept for callers; `Renderer.render` itself reports errors as one line)."""
    return renderer.render(name, **context)


def template_error(exc, name: str):
    """A jinja2.TemplateError (a syntax error, an undefined variable, a sandbox violation) as
    one BadInput naming the template's file and line."""
    from ledger.errors import BadInput

    filename = getattr(exc, "filename", None)
    line = getattr(exc, "lineno", None)
    if line is None:
        # Runtime errors (an undefined variable, an unsafe attribute) carry no position, but
        # jinja2 rewrites the traceback so the template's own frame holds it.
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.endswith(name.rsplit("/", 1)[-1]):
                filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
    message = " ".join(str(exc.message or exc).split())
    return BadInput(f"template {name}: {message}", filename or name, line)
