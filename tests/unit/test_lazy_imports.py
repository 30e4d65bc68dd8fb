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
"""


@pytest.mark.parametrize("args", [["--help"], ["status"], ["status", "DEMO-001", "--json"]])
def test_no_heavy_imports(tmp_path, args):
    ws = make_workspace(tmp_path / "ws", git_repo=False)
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ws, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="
