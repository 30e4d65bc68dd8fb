"""Splitting one huge table row, and `ledger status` on a plan holding it.

Issue 11: a 1.1 MB row made `ledger status` take 128 s (every unclosed backtick run
searched the rest of the row character by character). Reports the split time of a
100 KB and a 1 MB hostile row, their ratio (linear: about 10), and `status` on the
1 MB row.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import BIN, REPO, median, time_command

sys.path.insert(0, str(REPO))


def hostile_row(size: int) -> str:
    from tests.reliability.test_table_scaling import hostile_row as build

    return build(size)


def split_seconds(line: str, repeat: int = 3) -> float:
    from ledger.markdown.table import split_cells

    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        split_cells(line)
        timings.append(time.perf_counter() - start)
    return median(timings)


def main(repeat: int = 3) -> dict:
    from tests.integration.workspace_factory import make_workspace

    small, large = split_seconds(hostile_row(100_000), repeat), split_seconds(hostile_row(1_000_000), repeat)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_workspace(Path(tmp) / "ws", git_repo=False)
        plan = root / "plans/active/DEMO-001/implementation.md"
        row = hostile_row(1_000_000).replace("| A1 |", "| A9 |", 1)
        plan.write_text(plan.read_text() + row + "\n")
        status_s = median(time_command([str(BIN / "ledger"), "status", "--root", str(root)], root, repeat=repeat))
    return {
        "split_100kb_s": round(small, 4),
        "split_1mb_s": round(large, 4),
        "ratio_1mb_to_100kb": round(large / small, 1) if small else None,
        "status_with_1mb_row_s": round(status_s, 3),
    }


if __name__ == "__main__":
    print(main())
