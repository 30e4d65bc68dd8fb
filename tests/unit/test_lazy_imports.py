"""`ledger --help` and `ledger status` must never import torch, numpy or git."""

import subprocess
import sys

import pytest

from tests.integration.workspace_factory import make_workspace

PROBE = """
import sys
from ledger.cli import main
try:
    main(args=sys.argv[1:], prog_name="ledger")
except SystemExit:
    pass
print("HEAVY=" + ",".join(m for m in ("torch", "numpy", "git", "lightning") if m in sys.modules))
print("COMMAND_MODULES=" + ",".join(sorted(m for m in sys.modules if m.startswith("ledger.cli.") and m.endswith("_cmd"))))
"""


@pytest.mark.parametrize("args", [["--help"], ["status"], ["status", "DEMO-001", "--json"]])
def test_no_heavy_imports(tmp_path, args):
    ws = make_workspace(tmp_path / "ws", git_repo=False)
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ws, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-2] == "HEAVY="


def test_help_imports_no_command_module(tmp_path):
    """The command list comes from the command table, not from importing each command."""
    ws = make_workspace(tmp_path / "ws", git_repo=False)
    out = subprocess.run([sys.executable, "-c", PROBE, "--help"], cwd=ws, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "COMMAND_MODULES="
