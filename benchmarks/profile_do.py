"""Where `ledger do`'s fixed cost goes: a timeline of one run, step by step.

    python benchmarks/profile_do.py [RUNS]

Builds the one-test workspace bench_do_overhead.py uses (sub-second selector) and runs
`ledger do` RUNS times (default 3) in a child interpreter whose named steps are wrapped in
timers as their modules are imported (so import time is counted where it is paid). Prints,
for the median run, when each step started and how long it took, in ms since the child
process was started, plus when pytest's process was started and when ledger saw it exit:
everything outside that window is ledger's fixed cost. A bare `python -m pytest` of the same
selector is timed alongside. Run it on a quiet machine; under load only proportions mean
anything.
"""

from __future__ import annotations

import builtins
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAUNCHED_AT = "LEDGER_PROFILE_LAUNCHED_AT"

# (module, attribute): the steps of a run worth timing. A name a refactoring removed is skipped.
STEPS = {
    "ledger.running.do": ["prepare", "_execute", "create_report_dir", "write_manifest", "row_history", "hash_files",
                          "region_hashes", "change_row", "add_attempt", "_read_counts", "_snapshot_result",
                          "classify_outcome", "_template_context", "stage_run", "record_run", "write_evidence",
                          "record_in_plan"],
    "ledger.running.record": ["stage_run", "record_run", "write_evidence", "record_in_plan", "write_manifest",
                              "hash_files", "region_hashes", "change_row", "add_attempt", "read_counts",
                              "snapshot_result", "classify_outcome", "template_context"],
    "ledger.running.runner": ["run_streaming", "_stop_leftovers"],
    "ledger.running.environment": ["capture_environment", "interpreter_snapshot", "git_state", "project_packages"],
    "ledger.render": ["Renderer.render", "Renderer.load", "Renderer.require"],
    "ledger.editing.repair": ["write_journal"],
    "ledger.reading.profile": ["verdict_for_new_run"],
    "ledger.cli": ["main"],
}


def child() -> None:
    launched = float(os.environ[LAUNCHED_AT])
    events: list[tuple[float, float, str]] = []

    main_thread = threading.get_ident()

    def note(start: float, took: float, name: str) -> None:
        # The main thread's CPU time so far: on a quiet machine, its growth before the Popen and
        # after pytest's exit is the fixed cost; under load it is the part that load does not inflate.
        cpu = time.thread_time() if threading.get_ident() == main_thread else None
        events.append((start - launched, took, name, cpu))

    def timed(name, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.time()
            try:
                return function(*args, **kwargs)
            finally:
                note(start, time.time() - start, name)
        return wrapper

    patched: set[str] = set()
    real_import = builtins.__import__

    def patch(module_name: str) -> None:
        module = sys.modules.get(module_name)
        # Not while the module is still running its own body (a nested import sees it half-made).
        if module is None or module_name in patched or getattr(module.__spec__, "_initializing", False):
            return
        patched.add(module_name)
        for attribute in STEPS[module_name]:
            owner, _, name = attribute.rpartition(".")
            target = getattr(module, owner, None) if owner else module
            if target is not None and hasattr(target, name):
                setattr(target, name, timed(f"{module_name.rsplit('.', 1)[-1]}.{attribute}", getattr(target, name)))

    def importing(name, globals=None, locals=None, fromlist=(), level=0):
        fresh = name not in sys.modules
        start = time.time()
        module = real_import(name, globals, locals, fromlist, level)
        if fresh and name.startswith(("ledger", "jinja2", "click", "psutil", "filelock")) and level == 0:
            note(start, time.time() - start, f"import {name}")
        for module_name in STEPS:
            if module_name not in patched and module_name in sys.modules:
                patch(module_name)
        return module

    builtins.__import__ = importing
    original_popen = subprocess.Popen.__init__

    def popen(self, args, *rest, **kwargs):
        start = time.time()
        original_popen(self, args, *rest, **kwargs)
        note(start, time.time() - start, "Popen " + " ".join(str(a) for a in args[:4])[:50].replace("\n", " "))

    subprocess.Popen.__init__ = popen
    import atexit

    def report():
        note(time.time(), 0.0, "atexit")
        with open(os.environ["LEDGER_PROFILE_OUT"], "w") as handle:
            json.dump(events, handle)

    atexit.register(report)

    def in_forked_child():  # ledger.running.early_start's child is the tests', not profiled
        atexit.unregister(report)
        builtins.__import__ = real_import

    os.register_at_fork(
        after_in_parent=lambda: note(time.time(), 0.0, "os.fork (the early start, or a Popen with a preexec_fn)"),
        after_in_child=in_forked_child,
    )
    from ledger.running import runner

    note_end = runner._note_end

    def noted(process):
        if getattr(process, "ledger_ended", None) is None:
            note(time.time(), 0.0, "pytest exited (seen by ledger)")
        note_end(process)

    runner._note_end = noted
    sys.argv = ["ledger", *sys.argv[2:]]
    from ledger.entry import run

    run()


def one_run(ws: Path, out: Path) -> tuple[float, list]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LEDGER_PROFILE_OUT"] = str(out)
    # `-X frozen_modules=off` is not passed: the child starts like the real `ledger` script.
    argv = [sys.executable, __file__, "--child", "do", "DEMO-001", "A1", "--root", str(ws)]
    env[LAUNCHED_AT] = repr(time.time())
    start = time.time()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)
    wall = time.time() - start
    return wall, json.loads(out.read_text())


def bare_run(ws: Path, tmp: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.time()
    subprocess.run([sys.executable, "-m", "pytest", "tests/test_demo.py::test_ok", "-q", "-p", "no:cacheprovider",
                    f"--basetemp={tmp}/basetemp", f"--junitxml={tmp}/bare.xml"], cwd=ws, env=env,
                   stdout=subprocess.DEVNULL, check=False)
    return time.time() - start


def main(runs: int) -> None:
    sys.path.insert(0, str(REPO))
    from tests.integration.workspace_factory import make_workspace

    tmp = Path(tempfile.mkdtemp())
    ws = make_workspace(tmp / "ws")
    one_run(ws, tmp / "warm.json")
    bare_run(ws, tmp)
    results, bare = [], []
    for index in range(runs):
        bare.append(bare_run(ws, tmp))
        results.append(one_run(ws, tmp / f"run{index}.json"))
    results.sort(key=lambda r: r[0])
    wall, events = results[len(results) // 2]
    load = os.getloadavg()[0]
    print(f"ledger do median {wall * 1000:.0f} ms, bare pytest median {statistics.median(bare) * 1000:.0f} ms "
          f"(load average {load:.2f} on {os.cpu_count()} CPUs{', UNDER LOAD' if load > (os.cpu_count() or 1) / 2 else ''})")
    print("   start(ms)  took(ms)  main-thread CPU so far(ms)  step")
    for at, took, name, cpu in sorted(events):
        print(f"  {1000 * at:9.1f} {1000 * took:9.1f}  {'' if cpu is None else f'{1000 * cpu:9.1f}':>9}  {name}")
    print(f"  {1000 * wall:9.1f}            process reaped by the harness")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
