"""Start-up of `ledger --help` and `ledger status`, and proof they import no torch/numpy/git.

Reports the median of several runs and its ratio to the 150 ms target and to a
bare `python -c pass`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import BIN, example_workspace, median, time_command

HEAVY = ("torch", "numpy", "git", "jinja2", "lightning")
PROBE = (
    "import sys\n"
    "from ledger.cli import main\n"
    "try:\n"
    "    main(args=sys.argv[1:], prog_name='ledger')\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
)


def heavy_imports(args: list[str], cwd: Path) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True).stdout
    marked = [line for line in out.splitlines() if line.startswith("HEAVY=")]
    return marked[-1].removeprefix("HEAVY=") if marked else "probe failed"


def main(repeat: int = 15) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ws = example_workspace(Path(tmp) / "ws")
        python = median(time_command([sys.executable, "-c", "pass"], ws, repeat=repeat))
        help_s = median(time_command([str(BIN / "ledger"), "--help"], ws, repeat=repeat))
        status_s = median(time_command([str(BIN / "ledger"), "status"], ws, repeat=repeat))
        return {
            "python_startup_ms": round(python * 1000, 1),
            "ledger_help_ms": round(help_s * 1000, 1),
            "ledger_status_ms": round(status_s * 1000, 1),
            "help_ratio_to_150ms_target": round(help_s / 0.150, 2),
            "status_ratio_to_150ms_target": round(status_s / 0.150, 2),
            "heavy_modules_imported_by_help": heavy_imports(["--help"], ws) or "none",
            "heavy_modules_imported_by_status": heavy_imports(["status"], ws) or "none",
        }


if __name__ == "__main__":
    print(main())
