"""Fixed cost of `ledger do` over a bare `pytest SEL | tee log` of the same selector.

Two workloads, each run alternately (bare, ledger, bare, ledger, ...) so drifts in machine
load hit both sides alike:

- `subsecond`: a one-test workspace (`pytest tests/test_demo.py::test_ok -q`), where the
  fixed cost is most of the wall time a loop pays on every short run;
- `lightning`: the embedded example workspace's real Lightning workload (row D1).

Reports the medians, the absolute delta (target: under 0.08 s) and the ratio, and the CPU
time of each side's whole process tree (`cpu_s`, `cpu_delta_s`: what ledger costs the machine;
the comparable figure when the machine is loaded). With
`--against TREE` (a checkout of other ledger code, e.g. `git archive <commit> | tar -x -C TREE`)
that code's `ledger do` is timed in the same rotation (bare, this code, that code, ...), so a
change is judged against its baseline under the same machine load. The bare side
gets the same pytest options ledger adds (`-p no:cacheprovider`, its own `--basetemp`, a JUnit
XML), so the delta is ledger's own work (pytest's default basetemp under a shared /tmp holding
thousands of old runs made the bare side seconds slower). Numbers taken on a loaded machine (load average above half the CPUs) are
flagged `under_load`: they are not meaningful as absolute costs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from common import BIN, example_workspace, median

REPO = Path(__file__).resolve().parent.parent
LIGHTNING_SELECTOR = "tests/torch/test_integration_workflow_torch.py::test_run_pytorch_train_save_load_infer"
TARGET_DELTA_S = 0.08


def subsecond_workspace(target: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from tests.integration.workspace_factory import make_workspace

    return make_workspace(target)


def time_and_cpu(argv: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + system) of the command and every process it
    waited for (ledger waits for pytest, bash for pytest and tee). Under load the wall time
    mostly measures the load; the CPU time much less so, and ledger's CPU over the bare
    side's is what it costs the machine (on a quiet one, part of it overlaps the tests)."""
    import subprocess
    import time

    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped above
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def measure(ws: Path, bare_cmd: str, ledger_argv: list[str], env: dict, repeat: int, log: Path,
            against: Path | None = None) -> dict:
    sides = {"bare": (["bash", "-c", bare_cmd], env), "ledger": (ledger_argv, env)}
    if against is not None:
        # The other code's entry point, found first on sys.path (its own templates included).
        entry = "import sys; sys.argv[0] = 'ledger'; from ledger.entry import run; run()"
        sides["against"] = ([sys.executable, "-c", entry, *ledger_argv[1:]], {**env, "PYTHONPATH": str(against)})
    # Warm the OS caches (imports) so no side pays for the first load.
    for argv, side_env in sides.values():
        time_and_cpu(argv, ws, side_env)
    timings: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, (argv, side_env) in sides.items():
            wall_s, cpu_s = time_and_cpu(argv, ws, side_env)
            timings[name].append(wall_s)
            cpu[name].append(cpu_s)
    bare_s, bare_cpu = median(timings["bare"]), median(cpu["bare"])

    def side(name: str) -> dict:
        wall_s, cpu_s = median(timings[name]), median(cpu[name])
        return {"ledger_do_s": round(wall_s, 3), "delta_s": round(wall_s - bare_s, 3), "ratio": round(wall_s / bare_s, 3),
                "cpu_s": round(cpu_s, 3), "cpu_delta_s": round(cpu_s - bare_cpu, 3)}

    result = {"bare_pytest_tee_s": round(bare_s, 3), "bare_cpu_s": round(bare_cpu, 3), **side("ledger"),
              "target_delta_s": TARGET_DELTA_S, "runs": repeat}
    if against is not None:
        result["against"] = {"tree": str(against), **side("against")}
    return result


def bench_env() -> dict:
    # As a user's machine runs it: bytecode caches written and used (a sandbox's
    # PYTHONDONTWRITEBYTECODE=1 would charge both sides a recompile of every module).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "CUDA_VISIBLE_DEVICES": ""}


def under_load() -> dict:
    load1, _, _ = os.getloadavg()
    cpus = os.cpu_count() or 1
    return {"load_average_1m": round(load1, 2), "cpus": cpus, "under_load": load1 > cpus / 2}


def main(repeat: int = 5, workloads: tuple[str, ...] = ("subsecond", "lightning"), against: Path | None = None) -> dict:
    python = sys.executable
    results: dict = {"machine_before": under_load()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        junit = tmp_path / "bare.xml"
        if "subsecond" in workloads:
            ws = subsecond_workspace(tmp_path / "subsecond")
            env = bench_env()
            bare = f"{python} -m pytest tests/test_demo.py::test_ok -q -p no:cacheprovider --basetemp={tmp}/basetemp --junitxml={junit} | tee {tmp}/bare.log"
            ledger = [str(BIN / "ledger"), "do", "DEMO-001", "A1", "--root", str(ws)]
            results["subsecond"] = measure(ws, bare, ledger, env, repeat, tmp_path / "bare.log", against)
        if "lightning" in workloads:
            ws = example_workspace(tmp_path / "lightning")
            env = bench_env()
            bare = f"{python} -m pytest {LIGHTNING_SELECTOR} -vv -p no:cacheprovider --basetemp={tmp}/basetemp --junitxml={junit} | tee {tmp}/bare.log"
            ledger = [str(BIN / "ledger"), "do", "TEST-PYTORCH-001", "D1", "--root", str(ws)]
            results["lightning"] = measure(ws, bare, ledger, env, repeat, tmp_path / "bare.log", against)
    results["machine_after"] = under_load()
    results["under_load"] = results["machine_before"]["under_load"] or results["machine_after"]["under_load"]
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeat", nargs="?", type=int, default=5)
    parser.add_argument("workloads", nargs="*", choices=["subsecond", "lightning"], default=["subsecond", "lightning"])
    parser.add_argument("--against", type=Path, help="time this other ledger checkout in the same rotation")
    options = parser.parse_args()
    print(json.dumps(main(options.repeat, tuple(options.workloads), options.against), indent=2))
