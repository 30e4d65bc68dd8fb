"""Shared helpers for the benchmarks: timing real commands, building workspaces."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def time_command(argv: list[str], cwd: Path, env: dict | None = None, repeat: int = 1) -> list[float]:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        timings.append(time.perf_counter() - start)
    return timings


def median(values: list[float]) -> float:
    return statistics.median(values)


def example_workspace(target: Path) -> Path:
    """The embedded example workspace as a scratch git repo (what `make demo` builds)."""
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["bash", str(REPO / "scripts/demo_workspace.sh"), str(target)], check=True, stdout=subprocess.DEVNULL)
    return target
