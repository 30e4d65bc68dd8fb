"""Driving the real `ledger` executable against small temp workspaces."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.conftest import LEDGER_BIN, snapshot
from tests.integration.workspace_factory import make_workspace

PLAN_FILE = "plans/active/DEMO-001/implementation.md"
LEDGER_FILE = "docs/fix_plan.md"
HEADER = (
    "# DEMO-001 — Demo\n\n### Phase A — Base\n"
    "| ID | Task Description | State | How/Why & Guidance |\n"
)
SEPARATOR = "| --- | --- | --- | --- |\n"


def terminal_signals() -> None:
    """preexec_fn: SIGINT, SIGTERM and SIGHUP as a terminal's shell leaves them. ledger keeps an
    inherited "ignore" (nohup, `pytest … &`, a CI runner), so a test that sends one of them must
    not depend on how the suite was started: under nohup the SIGHUP tests failed every time."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    # A signal mask survives exec too: a suite started with them blocked would hold them pending.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))


def ledger(root: Path, *args: str, timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LEDGER_BIN), *args, "--root", str(root)],
        capture_output=True, text=True, timeout=timeout, cwd=cwd or root,
    )


def workspace(tmp_path: Path, plan: str | bytes | None = None, ledger_text: str | bytes | None = None) -> Path:
    """The DEMO-001 factory workspace (no git), with its plan and/or ledger replaced."""
    root = make_workspace(tmp_path / "ws", git_repo=False)
    for rel, content in ((PLAN_FILE, plan), (LEDGER_FILE, ledger_text)):
        if content is not None:
            (root / rel).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def files(root: Path) -> dict[str, bytes]:
    """Every file of the workspace except the lock file every locking command leaves (gitignored)."""
    return {k: v for k, v in snapshot(root).items() if k != ".ledger.lock"}


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def assert_clean_error(result: subprocess.CompletedProcess, code: int = 2, *fragments: str) -> None:
    """Exit `code`, exactly one `ledger: error:` line on stderr, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ledger: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The same command in-process through Click's runner (for paths that start no test
    run): much cheaper than a new interpreter, same result shape as `ledger()`."""
    import traceback

    from click.testing import CliRunner

    from ledger.cli import main

    result = CliRunner().invoke(main, [*args, "--root", str(root)])
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["ledger", *args], result.exit_code, result.stdout, stderr)
