"""Which Python runs a workspace's tests, and why.

`ledger` is often installed in its own environment (pipx, a tools venv), where the
project's dependencies are not: running the project's selector under ledger's own
interpreter records an ImportError as the work's regression. The project's
interpreter is, in order: `[tool.ledger] python`, the workspace's `.venv` or `venv`,
the active `$VIRTUAL_ENV`, and only then ledger's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import BadInput

# Relative to a virtual environment's root.
_VENV_PYTHONS = ("bin/python", "bin/python3", "Scripts/python.exe")
WORKSPACE_VENVS = (".venv", "venv")


@dataclass(frozen=True)
class Interpreter:
    path: str  # as it will be run (venv symlinks are kept: resolving them would leave the venv)
    source: str  # config, workspace-venv, virtual-env, ledger
    why: str  # one line for dry runs, show, the summary and env.json

    @property
    def is_ledgers_own(self) -> bool:
        return self.source == "ledger"

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "source": self.source, "why": self.why}


def _venv_python(venv: Path) -> Path | None:
    for name in _VENV_PYTHONS:
        candidate = venv / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def resolve_interpreter(
    root: Path,
    configured: str | None,
    config_source: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Interpreter:
    """The workspace's Python; a configured one that does not exist is an error, never a fallback."""
    environ = os.environ if environ is None else environ
    root = Path(root)
    if configured:
        candidate = Path(os.path.expanduser(configured))
        if not candidate.is_absolute():
            candidate = root / candidate
        if candidate.is_dir():
            candidate = _venv_python(candidate) or candidate
        if not candidate.is_file() or not os.access(candidate, os.X_OK):
            where = config_source.name if config_source else "[tool.ledger]"
            raise BadInput(
                f"[tool.ledger] python = {configured!r} is not an executable Python ({where})",
                config_source,
            )
        return Interpreter(str(candidate), "config", f"[tool.ledger] python = {configured!r}")
    for name in WORKSPACE_VENVS:
        python = _venv_python(root / name)
        if python is not None:
            return Interpreter(
                str(python), "workspace-venv", f"the workspace's {name}/ ({_display(root, python)})"
            )
    active = environ.get("VIRTUAL_ENV")
    if active:
        python = _venv_python(Path(active))
        if python is not None:
            return Interpreter(str(python), "virtual-env", f"the active $VIRTUAL_ENV ({active})")
    return Interpreter(
        sys.executable,
        "ledger",
        "ledger's own (no [tool.ledger] python, no .venv/ or venv/ in the workspace, no active $VIRTUAL_ENV)",
    )


def workspace_interpreter(ws) -> Interpreter:
    return resolve_interpreter(ws.root, ws.config.python, ws.config.source)
