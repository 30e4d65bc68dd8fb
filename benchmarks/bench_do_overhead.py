"""Overhead of `ledger do` over a bare `pytest ... | tee log` of the same selector.

Runs both on the embedded example workspace (the real Lightning workload),
alternating, and reports the ratio of medians. Target: <= 1.05.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from common import BIN, example_workspace, median, time_command

SELECTOR = "tests/torch/test_integration_workflow_torch.py::test_run_pytorch_train_save_load_infer"


def main(repeat: int = 5) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ws = example_workspace(Path(tmp) / "ws")
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        # Warm the OS caches (torch import) so neither side pays for the first load.
        time_command([sys.executable, "-m", "pytest", SELECTOR, "-q"], ws, env)
        bare, ledger = [], []
        for _ in range(repeat):
            bare += time_command(["bash", "-c", f'{sys.executable} -m pytest {SELECTOR} -vv | tee {tmp}/bare.log'], ws, env)
            ledger += time_command([str(BIN / "ledger"), "do", "TEST-PYTORCH-001", "D1"], ws, env)
    result = {
        "bare_pytest_tee_s": round(median(bare), 3),
        "ledger_do_s": round(median(ledger), 3),
        "ratio": round(median(ledger) / median(bare), 3),
        "target_ratio": 1.05,
        "runs": repeat,
    }
    return result


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
