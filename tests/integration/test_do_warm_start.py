"""`ledger do` starts the tests' interpreter early and gates it (ledger.running.warm_start),
forked before ledger loads when the tests run under ledger's own interpreter
(ledger.running.early_start), else spawned.

What the warm start must keep: the tests see what a cold `python -m pytest` shows them (path,
`__main__`, signal handlers, unbuffered output, no descriptor of ledger's or its caller's, none
of ledger's modules, a session of their own), a refused or dry run leaves no child behind and runs nothing,
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
    import json, os, signal, sys
    from pathlib import Path

    def _open(fd):
        try:
            os.fstat(fd)
            return True
        except OSError:
            return False

    def test_probe():
        Path(os.environ.get("PROBE_OUT", "probe.json")).write_text(json.dumps({
            "orig_argv": sys.orig_argv,
            "argv0": sys.argv[0],
            "path": sys.path,
            "hash_randomization": sys.flags.hash_randomization,
            "hashseed": os.environ.get("PYTHONHASHSEED"),
            "omp": os.environ.get("OMP_NUM_THREADS"),
            "main_names": sorted(n for n in vars(sys.modules["__main__"]) if not n.startswith("__")),
            "ledger_modules": sorted(n for n in sys.modules if n.split(".")[0] == "ledger"),
            "own_session": os.getsid(0) == os.getpid(),
            "sigint_default": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
            "sigterm": str(signal.getsignal(signal.SIGTERM)),
            "sighup": str(signal.getsignal(signal.SIGHUP)),
            "stdout": [sys.__stdout__.write_through, sys.__stdout__.line_buffering,
                       sys.__stdout__.encoding, sys.__stdout__.errors, sys.__stdout__.buffer.name],
            "stderr": [sys.__stderr__.write_through, sys.__stderr__.errors, sys.__stderr__.buffer.name],
            "stdin_is_null": os.path.samestat(os.fstat(0), os.stat(os.devnull)),
            "unbuffered_env": os.environ.get("PYTHONUNBUFFERED"),
            "run_id": bool(os.environ.get("LEDGER_RUN_ID")),
            "callers_fd_open": _open(int(os.environ.get("CALLERS_FD", "-1"))),
            "cwd": os.getcwd(),
        }))
    """
)

# What a cold `python -m pytest` shows the tests and a pre-started interpreter must show too.
SAME_AS_COLD = (
    "argv0", "path", "main_names", "ledger_modules", "own_session", "sigint_default", "sigterm",
    "sighup", "stdout", "stderr", "stdin_is_null", "unbuffered_env", "run_id", "callers_fd_open",
    "cwd",
)


@pytest.fixture
def ws(tmp_path):
    root = make_workspace(tmp_path / "ws", plan=PLAN, git_repo=False)
    (root / "tests/test_probe.py").write_text(PROBE)
    return root


def ledger(ws: Path, *args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    if pass_fds:
        env["CALLERS_FD"] = str(pass_fds[0])
    return subprocess.run(
        [str(LEDGER_BIN), *args, "--root", str(ws)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        pass_fds=pass_fds,
    )


def gated_children(ws: Path) -> list[psutil.Process]:
    """Processes running the warm start's bootstrap in `ws`, spawned (`-c` bootstrap) or
    forked (ledger's own command line), whatever their parent now is."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd", "status"]):
        cmdline = process.info["cmdline"] or []
        spawned = any("_ledger_gate" in part for part in cmdline)
        forked = str(LEDGER_BIN) in cmdline and "do" in cmdline
        if (
            (spawned or forked)
            and process.info["cwd"] == str(ws)
            and process.info["status"] != psutil.STATUS_ZOMBIE
        ):
            found.append(process)
    return found


def use_a_spawned_start(ws: Path) -> None:
    """ledger's own interpreter, named in the configuration: the tests run under the same
    Python, but started by ledger (`-c` bootstrap), not forked from it."""
    python = Path(LEDGER_BIN).read_text().splitlines()[0].removeprefix("#!")
    (ws / "ledger.toml").write_text(f'[tool.ledger]\npython = "{python}"\n')


def probe(ws: Path) -> dict:
    return json.loads((ws / "probe.json").read_text())


@pytest.mark.parametrize("start", ["forked", "spawned"])
def test_a_plain_selector_runs_in_the_pre_started_interpreter_as_python_m_pytest_would(ws, start):
    if start == "spawned":
        use_a_spawned_start(ws)
    read_end, write_end = os.pipe()  # a descriptor ledger's caller left open: never the tests'
    try:
        result = ledger(ws, "do", "DEMO-001", "W1", "--json", pass_fds=(write_end,))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = probe(ws)
    if start == "forked":  # ledger's own process, forked before it loaded ledger
        assert seen["orig_argv"][1] == str(LEDGER_BIN) and seen["orig_argv"][2] == "do"
    else:  # ledger's bootstrap (`-c`)
        assert seen["orig_argv"][1] == "-c" and "_ledger_gate" in seen["orig_argv"][2]
    # Then handed pytest's argv as -m sets it.
    assert seen["argv0"].endswith(os.path.join("pytest", "__main__.py"))
    # sys.path[0] as -m sets it (the folder, never the -c bootstrap's ""); pytest puts the
    # test folder before it.
    assert str(ws) in seen["path"] and "" not in seen["path"]
    assert seen["omp"] == "3"  # the override, applied at the gate
    assert seen["ledger_modules"] == [] and seen["own_session"] and seen["stdin_is_null"]
    assert seen["stdout"][:2] == [True, False]  # unbuffered, as PYTHONUNBUFFERED=1 starts it
    assert not seen["callers_fd_open"] and seen["cwd"] == str(ws)
    # Everything else as under a cold `python -m pytest` (W2, PYTHONHASHSEED, starts cold);
    # __main__ holds what pytest's __main__ defines there, nothing of the bootstrap's.
    assert ledger(ws, "do", "DEMO-001", "W2", "--json").returncode == 0
    cold = probe(ws)
    assert cold["orig_argv"][1:3] == ["-m", "pytest"]
    assert {k: seen[k] for k in SAME_AS_COLD} == {
        **{k: cold[k] for k in SAME_AS_COLD},
        "callers_fd_open": False,
    }
    assert json.loads(result.stdout)["env_overrides"]["OMP_NUM_THREADS"] == "3"
    assert gated_children(ws) == []


def test_a_usage_error_leaves_no_forked_child(ws):
    result = ledger(ws, "do", "DEMO-001", "W1", "--no-such-option")
    assert result.returncode == 2 and "no-such-option" in result.stderr
    assert gated_children(ws) == []
    result = ledger(ws, "do", "DEMO-001", "NOPE")
    assert result.returncode == 2 and "NOPE" in result.stderr
    assert gated_children(ws) == [] and not (ws / "probe.json").exists()


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


@pytest.mark.parametrize("closed", [0, 1, 2])
def test_do_started_with_a_standard_descriptor_closed_runs_and_records(ws, closed):
    """A loop may start ledger with stdin, stdout or stderr closed: the early start then
    leaves the run to the spawned start (its pipes would land on 0-2), and the run ends as
    any other (before, `os._exit`'s flush of a missing sys.stdout raised)."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    keep = [fd for fd in (0, 1, 2) if fd != closed]
    result = subprocess.run(
        [
            "bash",
            "-c",
            f'exec {closed}>&- && exec "$0" "$@"',
            str(LEDGER_BIN),
            "do",
            "DEMO-001",
            "W1",
            "--root",
            str(ws),
        ],
        stdin=subprocess.DEVNULL if 0 in keep else None,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert probe(ws)["omp"] == "3" and gated_children(ws) == []
    assert "[x]" in (ws / "plans/active/DEMO-001/implementation.md").read_text().split("W1")[1].split("\n")[0]
