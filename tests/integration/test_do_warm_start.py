"""`ledger do` starts the tests' interpreter early and gates it (ledger.running.warm_start).

What the warm start must keep: a refused or dry run leaves no child behind and runs nothing,
a start-time override (PYTHONHASHSEED) takes the cold start and reaches the tests, an
interpreter without pytest fails as `python -m pytest` does, and the environment snapshot it
reports is the one `interpreter_snapshot` reads from a separate interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from ledger.running.environment import interpreter_snapshot
from ledger.running.warm_start import LAZY_ENV, WarmStart, versions_from
from tests.conftest import LEDGER_BIN
from tests.integration.test_do_interpreter import make_venv
from tests.integration.workspace_factory import make_workspace

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Warm start

    ### Phase A — Probes
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | W1 | Plain | [ ] | `OMP_NUM_THREADS=3 pytest tests/test_probe.py -q` |
    | W2 | Hash seed | [ ] | `PYTHONHASHSEED=0 pytest tests/test_probe.py -q` |
    | W3 | Refused | [ ] | `pytest tests/test_probe.py -p probe_plugin -q` |
    """
)

# Writes how its interpreter was started and what it saw, for the assertions below.
PROBE = textwrap.dedent(
    """\
    import json, os, sys
    from pathlib import Path

    def test_probe():
        Path(os.environ.get("PROBE_OUT", "probe.json")).write_text(json.dumps({
            "orig_argv": sys.orig_argv,
            "argv0": sys.argv[0],
            "path": sys.path,
            "hash_randomization": sys.flags.hash_randomization,
            "hashseed": os.environ.get("PYTHONHASHSEED"),
            "omp": os.environ.get("OMP_NUM_THREADS"),
            "main_names": sorted(n for n in vars(sys.modules["__main__"]) if not n.startswith("__")),
        }))
    """
)


@pytest.fixture
def ws(tmp_path):
    root = make_workspace(tmp_path / "ws", plan=PLAN, git_repo=False)
    (root / "tests/test_probe.py").write_text(PROBE)
    return root


def ledger(ws: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return subprocess.run(
        [str(LEDGER_BIN), *args, "--root", str(ws)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def gated_children(ws: Path) -> list[psutil.Process]:
    """Processes running the warm start's bootstrap in `ws` (whatever their parent now is)."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = process.info["cmdline"] or []
        if any("_ledger_gate" in part for part in cmdline) and process.info["cwd"] == str(ws):
            found.append(process)
    return found


def probe(ws: Path) -> dict:
    return json.loads((ws / "probe.json").read_text())


def test_a_plain_selector_runs_in_the_pre_started_interpreter_as_python_m_pytest_would(ws):
    result = ledger(ws, "do", "DEMO-001", "W1", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    seen = probe(ws)
    # Started by ledger's bootstrap (`-c`), then handed pytest's argv as -m sets it.
    assert seen["orig_argv"][1] == "-c" and "_ledger_gate" in seen["orig_argv"][2]
    assert seen["argv0"].endswith(os.path.join("pytest", "__main__.py"))
    # sys.path[0] as -m sets it (the folder, never the -c bootstrap's ""); pytest puts the
    # test folder before it.
    assert str(ws) in seen["path"] and "" not in seen["path"]
    assert seen["omp"] == "3"  # the override, applied at the gate
    # The bootstrap left nothing of its own in __main__: it holds what pytest's __main__ defines
    # under a cold `python -m pytest` (W2 starts cold).
    assert ledger(ws, "do", "DEMO-001", "W2", "--json").returncode == 0
    assert seen["main_names"] == probe(ws)["main_names"]
    assert json.loads(result.stdout)["env_overrides"]["OMP_NUM_THREADS"] == "3"
    assert gated_children(ws) == []


def test_a_hash_seed_selector_takes_the_cold_start_and_the_tests_see_the_seed(ws):
    assert "PYTHONHASHSEED" not in LAZY_ENV
    result = ledger(ws, "do", "DEMO-001", "W2", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    seen = probe(ws)
    assert seen["orig_argv"][1:3] == ["-m", "pytest"]  # a fresh interpreter, as before
    assert seen["hashseed"] == "0" and seen["hash_randomization"] == 0
    assert gated_children(ws) == []


def test_a_refused_selector_runs_nothing_and_leaves_no_pre_started_child(ws):
    before = sorted(p.relative_to(ws) for p in ws.rglob("*"))
    result = ledger(ws, "do", "DEMO-001", "W3")
    assert result.returncode == 2 and "plugin" in result.stderr
    assert not (ws / "probe.json").exists()
    assert gated_children(ws) == []
    assert sorted(p.relative_to(ws) for p in ws.rglob("*") if p.name != ".ledger.lock") == [
        p for p in before if p.name != ".ledger.lock"
    ]


def test_a_dry_run_starts_no_child(ws):
    result = ledger(ws, "do", "DEMO-001", "W1", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert gated_children(ws) == [] and not (ws / "probe.json").exists()


def test_an_abandoned_child_is_gone_and_ran_nothing(tmp_path):
    (tmp_path / "conftest.py").write_text("open('ran', 'w').close()\n")
    warm = WarmStart.start(sys.executable, tmp_path)
    assert warm is not None
    pid = warm.process.pid
    warm.abandon()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert warm.process.returncode is not None and not (tmp_path / "ran").exists()


def test_only_lazily_read_overrides_go_through_the_gate(tmp_path):
    warm = WarmStart.start(sys.executable, tmp_path)
    assert warm is not None
    try:
        argv = [sys.executable, "-m", "pytest", "-q"]
        assert warm.can_run(argv, tmp_path, {"CUDA_VISIBLE_DEVICES": ""})
        assert not warm.can_run(argv, tmp_path, {"PYTHONHASHSEED": "0"})
        assert not warm.can_run(argv, tmp_path, {"PYTHONPATH": "x"})
        assert not warm.can_run(argv, tmp_path / "elsewhere", {})
        assert not warm.can_run(["/other/python", "-m", "pytest"], tmp_path, {})
    finally:
        warm.abandon()


@pytest.fixture(scope="module")
def venvs(tmp_path_factory):
    base = tmp_path_factory.mktemp("warm_venvs")
    return {"with": make_venv(base / "with_dep", True), "bare": base / "bare"}


def test_the_reported_snapshot_is_what_a_separate_interpreter_reads(tmp_path, venvs):
    python = str(venvs["with"] / "bin/python")
    names = ["fakedep", "FakeDep", "pytest", "Pluggy", "no-such-package", "iniconfig"]
    warm = WarmStart.start(python, tmp_path)
    assert warm is not None
    try:
        reported = warm.snapshot()
    finally:
        warm.abandon()
    cold_info, cold_versions = interpreter_snapshot(python, names)
    assert reported is not None
    assert {**reported["python"], "executable": python} == cold_info
    assert versions_from(reported, names) == cold_versions
    assert cold_versions["fakedep"] == "1.2.3" and cold_versions["no-such-package"] is None


def test_an_interpreter_without_pytest_fails_as_python_m_pytest_does(ws, venvs):
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venvs["bare"])],
        check=True,
        capture_output=True,
    )
    python = venvs["bare"] / "bin/python"
    (ws / "ledger.toml").write_text(f'[tool.ledger]\npython = "{python}"\n')
    warm_run = ledger(ws, "do", "DEMO-001", "W1", "--json", "--no-flip")
    cold_run = ledger(ws, "do", "DEMO-001", "W2", "--json", "--no-flip")  # PYTHONHASHSEED: cold
    warm, cold = json.loads(warm_run.stdout), json.loads(cold_run.stdout)
    assert warm_run.returncode == cold_run.returncode == 5
    assert warm["outcome"] == cold["outcome"] == "collection_error"
    assert warm["reason"] == cold["reason"] and warm["reason"].endswith("No module named pytest")
    logs = [(ws / run["report_dir"] / "pytest.log").read_text() for run in (warm, cold)]
    assert logs[0] == logs[1] == f"{python}: No module named pytest\n"
    assert gated_children(ws) == []
