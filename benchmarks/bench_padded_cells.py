"""status/audit/html on a plan whose header cell is padded with a long run of spaces.

The real 2025-07 checklists (../shared/corpus/a19c2cc__…phase_1_checklist.md, public data from
hoidn/PtychoPINN) pad the `How/Why & API Guidance` header cell with thousands of spaces; a
quadratic emphasis regex made each command take seconds. Reports each command's median time
with 13,000 and 100,000 spaces inside the cell against the same plan unpadded: reading is linear
when both ratios stay near 1.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from common import BIN, median, time_command

HEADER = "| ID  | Task Description | State | How/Why & API Guidance |"


def plan_text(pad: int, rows: int = 40) -> str:
    header = HEADER.replace("API Guidance", "API" + " " * pad + "Guidance") if pad else HEADER
    body = "".join(f"| {i // 5}.{chr(65 + i % 5)} | **Task {i}** | `[D]` | **Why:** because <br> **How:** `pytest tests/t.py::test_{i}` |\n" for i in range(rows))
    return f"### **Agent Implementation Checklist: Padded**\n\n{header}\n| :-- | :-- | :-- | :-- |\n| **Section 0: Preparation** | | | |\n{body}"


def workspace(folder: Path, pad: int) -> Path:
    plan = folder / "plans" / "active" / "PAD-001" / "implementation.md"
    plan.parent.mkdir(parents=True)
    plan.write_text(plan_text(pad))
    (folder / "docs").mkdir()
    (folder / "docs" / "fix_plan.md").write_text("# Fix Plan\n\n## [PAD-001] Padded\n")
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    return folder


def main(repeat: int = 5) -> dict:
    commands = {"status": ["status"], "audit": ["audit"], "html": ["html", "-o", "site"]}
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        roots = {pad: workspace(Path(tmp) / f"pad{pad}", pad) for pad in (0, 13_000, 100_000)}
        for name, args in commands.items():
            times = {pad: median(time_command([str(BIN / "ledger"), *args], root, repeat=repeat)) for pad, root in roots.items()}
            results[name] = {
                "unpadded_s": round(times[0], 3),
                "pad13k_s": round(times[13_000], 3),
                "pad100k_s": round(times[100_000], 3),
                "ratio_13k": round(times[13_000] / times[0], 2),
                "ratio_100k": round(times[100_000] / times[0], 2),
            }
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
