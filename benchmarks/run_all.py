"""Run every benchmark and print one line of JSON each (`make bench`)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = ["bench_startup", "bench_do_overhead", "bench_audit", "bench_html", "bench_padded_cells", "bench_table"]

for name in BENCHMARKS:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        continue
    print(json.dumps({"benchmark": name, **module.main()}), flush=True)
