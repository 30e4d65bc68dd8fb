"""Plan text is hostile input: the selector policy table (issue 11).

Every selector below would, if pytest ran it, load code (a plugin, a module the
environment names, a test file outside the workspace), write or delete outside the
workspace, or "pass" without running a test. Each one goes through every way plan
text reaches pytest — `do --selector`, a row's guidance under `do` and `brief`, `selectors
--collect`, and a directive's `Mapped tests:` under `check-input` and `do --from-input` — and each must be
refused with exit 2 and one `ledger: error:` line naming its rule and where it came
from, while nothing in the temp tree changes and no sentinel ran.

The sentinels (in `sentinel/`, beside the workspace) all create the file `PWNED`
when anything imports or runs them; `test_the_sentinels_fire_when_pytest_is_given_them`
shows they are live, so their silence under ledger means something.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.running.selector import looks_like_selector
from tests.reliability.helpers import HEADER, SEPARATOR, cli, ledger, workspace
from tests.reliability.test_security import INJECTIONS

PLAN_PATH = "plans/active/DEMO-001/implementation.md"
ROW_LINE = 6  # HEADER is lines 1-4, SEPARATOR line 5
MAPPED_LINE = 4
OK = "tests/test_demo.py::test_ok"

# (selector template, rule). {s}: the sentinel folder, {o}: a folder outside the
# workspace, {m}: the marker file a sentinel would create, {x}: a test file outside.
HOSTILE = [
    # The environment (the first list).
    (f"BROWSER=\"sh -c 'touch {{m}}' %s\" PYTHONWARNINGS=ignore::antigravity.X pytest {OK} -q", "env-allowlist"),
    (f"PYTHONWARNINGS=error::antigravity.X pytest {OK}", "env-allowlist"),
    (f"BROWSER='touch {{m}}' pytest {OK}", "env-allowlist"),
    (f"LD_PRELOAD={{s}}/evil.so pytest {OK}", "env-allowlist"),
    (f"LD_LIBRARY_PATH={{s}} pytest {OK}", "env-allowlist"),
    (f"PYTHONPATH={{s}} pytest {OK}", "env-allowlist"),
    (f"PYTHONSTARTUP={{s}}/evilplugin.py pytest {OK}", "env-allowlist"),
    (f"PYTHONHOME={{s}} pytest {OK}", "env-allowlist"),
    (f"PYTHONINSPECT=1 pytest {OK}", "env-allowlist"),
    (f"PYTEST_PLUGINS=evilplugin pytest {OK}", "env-allowlist"),
    (f"PYTEST_ADDOPTS='-p evilplugin' pytest {OK}", "env-allowlist"),
    (f"PYTEST_ADDOPTS=--basetemp={{s}} pytest {OK}", "env-allowlist"),
    (f"CUDA_VISIBLE_DEVICES= PYTHONPATH={{s}} pytest {OK}", "env-allowlist"),  # one bad name among good ones
    (f"PYTHONHASHSEED=evil pytest {OK}", "env-allowlist"),  # the one PYTHON* name, value checked
    (f"OMP_NUM_THREADS=1 python -m pytest {OK} -p evilplugin", "option-allowlist"),
    # Options that load code.
    (f"pytest -p evilplugin {OK}", "option-allowlist"),
    (f"pytest -pevilplugin {OK}", "option-allowlist"),
    (f"pytest -p=no:x {OK}", "option-allowlist"),
    (f"pytest -vp evilplugin {OK}", "option-allowlist"),
    (f"pytest -p no:junitxml {OK}", "option-allowlist"),  # would leave ledger no counts
    (f"pytest -W error::antigravity.X {OK}", "option-allowlist"),
    (f"pytest --pythonwarnings=error::antigravity.X {OK}", "option-allowlist"),
    (f"pytest --pyargs evilplugin", "option-allowlist"),
    (f"pytest @{{s}}/args.txt {OK}", "option-allowlist"),
    # Options that read configuration ledger does not control.
    (f"pytest -c {{s}}/pytest.ini {OK}", "option-allowlist"),
    (f"pytest --config-file={{s}}/pytest.ini {OK}", "option-allowlist"),
    (f"pytest -o pythonpath={{s}} {OK}", "option-allowlist"),
    (f"pytest --override-ini=pythonpath={{s}} {OK}", "option-allowlist"),
    (f"pytest --rootdir={{s}} {OK}", "option-allowlist"),
    (f"pytest --confcutdir={{s}} {OK}", "option-allowlist"),
    (f"pytest --noconftest {OK}", "option-allowlist"),
    # Options that write or delete outside.
    (f"pytest --basetemp={{s}} {OK}", "option-allowlist"),
    (f"pytest --basetemp {{s}} {OK}", "option-allowlist"),
    (f"pytest -o cache_dir={{o}}/cache {OK}", "option-allowlist"),
    (f"pytest --debug={{o}}/debug.log {OK}", "option-allowlist"),
    (f"pytest --junitxml={{o}}/junit.xml {OK}", "option-allowlist"),
    (f"pytest --log-file={{o}}/run.log {OK}", "option-allowlist"),
    (f"pytest -- --basetemp={{s}}", "option-allowlist"),
    (f"pytest -k -p evilplugin {OK}", "option-allowlist"),  # argparse reads -p as an option, not -k's value
    # Options that report instead of running tests ("passed" with nothing run).
    ("pytest --version", "option-allowlist"),
    ("pytest -V", "option-allowlist"),
    ("pytest --help", "option-allowlist"),
    ("pytest -h", "option-allowlist"),
    (f"pytest -xh {OK}", "option-allowlist"),
    ("pytest --markers", "option-allowlist"),
    ("pytest --fixtures", "option-allowlist"),
    (f"pytest --fixtures-per-test {OK}", "option-allowlist"),
    (f"pytest --setup-plan {OK}", "option-allowlist"),
    (f"pytest --setup-only {OK}", "option-allowlist"),
    (f"pytest --setup-show {OK}", "option-allowlist"),
    (f"pytest --trace-config {OK}", "option-allowlist"),
    ("pytest --cache-show", "option-allowlist"),
    # Test paths and node ids outside the workspace.
    ("pytest ../x_test.py::test_t", "path-confinement"),
    ("pytest ../../x_test.py::t", "path-confinement"),
    ("pytest {x}::test_t", "path-confinement"),
    ("pytest {x}", "path-confinement"),
    ("pytest tests/../../x_test.py", "path-confinement"),
    ("pytest tests/outlink/x_test.py::test_t", "path-confinement"),  # a symlink inside, pointing out
    ("{x}::test_t", "path-confinement"),
    (f"pytest {OK} /", "path-confinement"),
]
# The shell-injection list from test_security, as plan text too: shell syntax after
# `pytest` is `no-shell`; any other program is `pytest-only`.
SHELL = [(t, "no-shell" if t.startswith("pytest") else "pytest-only") for t in INJECTIONS]
CASES = [pytest.param(template, rule, id=template[:60]) for template, rule in HOSTILE + SHELL]


@pytest.fixture
def tree(tmp_path):
    """The workspace, its sentinels, and the paths a hostile selector aims at."""
    marker = tmp_path / "PWNED"
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (tmp_path / "outside").mkdir()
    touch = f"open({str(marker)!r}, 'a').close()\n"
    (sentinel / "canary.txt").write_text("--basetemp would delete this folder\n")
    (sentinel / "evilplugin.py").write_text(touch)
    (sentinel / "sitecustomize.py").write_text(touch)
    (sentinel / "x_test.py").write_text(touch + "def test_t():\n    pass\n")
    (sentinel / "pytest.ini").write_text(f"[pytest]\naddopts = -p evilplugin\npythonpath = {sentinel}\n")
    (sentinel / "args.txt").write_text("-p\nevilplugin\n")
    (tmp_path / "x_test.py").write_text(touch + "def test_t():\n    pass\n")
    root = workspace(tmp_path)
    (root / "tests/outlink").symlink_to(sentinel, target_is_directory=True)
    values = {"s": str(sentinel), "o": str(tmp_path / "outside"), "m": str(marker), "x": str(tmp_path / "x_test.py")}
    return root, marker, values


def tree_state(top: Path) -> dict[str, bytes | str]:
    """Every file (bytes), folder and link under `top`; the lock file a locking command leaves aside."""
    state: dict[str, bytes | str] = {}
    for path in sorted(top.rglob("*")):
        key = path.relative_to(top).as_posix()
        if path.name == ".ledger.lock":
            continue
        if path.is_symlink():
            state[key] = "link -> " + os.readlink(path)
        elif path.is_dir():
            state[key] = "dir"
        else:
            state[key] = path.read_bytes()
    return state


def span(text: str) -> str:
    """`text` as a Markdown code span (backticks inside need a longer fence)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def assert_refused(result, rule: str, where: str, marker: Path) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith(f"ledger: error: {where}: "), result.stderr
    assert f"[rule: {rule}]" in errors[0], errors[0]
    assert not marker.exists()


@pytest.mark.parametrize("template, rule", CASES)
def test_hostile_selector_is_refused_everywhere(tree, tmp_path, template, rule):
    root, marker, values = tree
    text = template.format(**values)
    plan = HEADER + SEPARATOR + f"| A1 | hostile | [ ] | Run {span(text)}. |\n"
    (root / PLAN_PATH).write_text(plan)
    (root / "input.md").write_text(
        "Summary: s\nMode: TDD\nFocus: [DEMO-001.A1] x\n"
        f"Mapped tests: {span(text)}\nArtifacts: plans/active/DEMO-001/reports/x/\n\nDo Now:\n1. x\n"
    )
    before = tree_state(tmp_path)

    assert_refused(cli(root, "do", "DEMO-001", "A1", "--selector", text), rule, "--selector", marker)
    assert_refused(cli(root, "check-input"), rule, f"input.md:{MAPPED_LINE}", marker)
    assert_refused(cli(root, "do", "--from-input", "input.md"), rule, f"input.md:{MAPPED_LINE}", marker)
    if looks_like_selector(text):
        where = f"{PLAN_PATH}:{ROW_LINE}"
        assert_refused(cli(root, "do", "DEMO-001", "A1"), rule, where, marker)
        assert_refused(cli(root, "do", "DEMO-001", "A1", "--dry-run"), rule, where, marker)
        assert_refused(cli(root, "selectors", "DEMO-001", "--collect"), rule, where, marker)
        assert_refused(cli(root, "brief", "DEMO-001", "A1"), rule, where, marker)
    else:
        # Not selector-shaped (`touch x`): the row names no selector, so nothing can run it.
        result = cli(root, "do", "DEMO-001", "A1")
        assert result.returncode == 2 and "has no pytest selector" in result.stderr
        result = cli(root, "selectors", "DEMO-001", "--collect")
        assert result.returncode == 0 and "no rows name a pytest selector" in result.stdout

    assert not marker.exists()
    assert tree_state(tmp_path) == before


# The issue's own reproductions, through the real executable (a fresh interpreter, the
# environment ledger really passes on).
REAL = [
    (f"BROWSER=\"sh -c 'touch {{m}}' %s\" PYTHONWARNINGS=ignore::antigravity.X pytest {OK} -q", "env-allowlist"),
    (f"PYTHONPATH={{s}} pytest {OK}", "env-allowlist"),
    (f"PYTEST_PLUGINS=evilplugin pytest {OK}", "env-allowlist"),
    (f"pytest -p evilplugin {OK}", "option-allowlist"),
    (f"pytest -c {{s}}/pytest.ini {OK}", "option-allowlist"),
    (f"pytest --basetemp={{s}} {OK}", "option-allowlist"),
    ("pytest --version", "option-allowlist"),
    ("pytest ../x_test.py::test_t", "path-confinement"),
]


@pytest.mark.parametrize("template, rule", REAL, ids=[t[:50] for t, _ in REAL])
def test_hostile_plan_row_through_the_real_executable(tree, tmp_path, template, rule):
    root, marker, values = tree
    text = template.format(**values)
    (root / PLAN_PATH).write_text(HEADER + SEPARATOR + f"| A1 | hostile | [ ] | Run {span(text)}. |\n")
    before = tree_state(tmp_path)
    for args in (("do", "DEMO-001", "A1"), ("selectors", "DEMO-001", "--collect")):
        assert_refused(ledger(root, *args), rule, f"{PLAN_PATH}:{ROW_LINE}", marker)
    assert tree_state(tmp_path) == before


def test_the_sentinels_fire_when_pytest_is_given_them(tree, tmp_path):
    """Control: run straight through pytest (not ledger), the sentinels do create PWNED."""
    root, marker, values = tree
    env = {**os.environ, "PYTHONPATH": values["s"]}
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "evilplugin", "-p", "no:cacheprovider", "--collect-only", "-q", OK],
                         cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert marker.exists()
    marker.unlink()
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "../x_test.py::test_t"],
                         cwd=root, capture_output=True, text=True, timeout=120)
    assert marker.exists(), run.stdout + run.stderr


ALLOWED = [
    f"pytest {OK} -q",
    f"pytest {OK} -vv -rA --tb=short -x --maxfail 2 --durations=5",
    f"pytest {OK} -xvs -rfE --tb line",
    f"pytest tests/test_demo.py -k 'ok and not bad' -m 'not slow' --co",
    f"pytest {OK} -p no:randomly -pno:doctest --strict-markers",
    f"CUDA_VISIBLE_DEVICES='' OMP_NUM_THREADS=1 PYTHONHASHSEED=0 pytest {OK} --lf",
    f"python -m pytest {OK} --ff --capture=no --color=no",
    f"{OK}",
    f"pytest {{root}}/tests/test_demo.py::test_ok",  # absolute, but inside
]


@pytest.mark.parametrize("template", ALLOWED)
def test_ordinary_selectors_pass_the_policy(tree, template):
    root, marker, _ = tree
    result = cli(root, "do", "DEMO-001", "A1", "--selector", template.format(root=root), "--dry-run")
    assert result.returncode == 0, result.stderr


def test_allow_env_in_the_workspace_config_extends_the_allowlist(tree):
    root, marker, _ = tree
    selector = f"MY_FLAG=1 pytest {OK}"
    assert_refused(cli(root, "do", "DEMO-001", "A1", "--selector", selector, "--dry-run"), "env-allowlist", "--selector", marker)
    (root / "ledger.toml").write_text('[tool.ledger]\nallow_env = ["MY_FLAG"]\n')
    assert cli(root, "do", "DEMO-001", "A1", "--selector", selector, "--dry-run").returncode == 0


def test_a_run_keeps_pytest_cache_and_tmp_path_inside_the_workspace(tree, tmp_path):
    """ledger's own options: `-o cache_dir=<workspace>/.pytest_cache`, `--basetemp` in the
    report folder (removed after the run, so tmp_path files never become evidence)."""
    root, marker, _ = tree
    (root / "tests/test_tmp.py").write_text(
        "def test_tmp(tmp_path):\n    (tmp_path / 'made.txt').write_text('x')\n    assert str(tmp_path).count('/reports/')\n"
    )
    outside_before = tree_state(tmp_path / "sentinel")
    result = ledger(root, "do", "DEMO-001", "A1", "--selector", "pytest tests/test_tmp.py --lf", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    import json

    data = json.loads(result.stdout)
    report = root / data["report_dir"]
    assert not (report / "basetemp").exists()
    assert f"--basetemp={report / 'basetemp'}" in data["argv"]
    assert f"cache_dir={root / '.pytest_cache'}" in data["argv"]
    assert (root / ".pytest_cache").is_dir()
    assert tree_state(tmp_path / "sentinel") == outside_before and not marker.exists()


# ------------------------------------------------------------------ verify: a manifest is plan text too

from tests.integration.test_verify_cli import history  # noqa: E402,F401  (the module-scoped git history)


@pytest.mark.parametrize("forge", ["selector", "env_overrides"])
def test_verify_refuses_a_forged_manifest_selector(history, tmp_path, forge):
    """A manifest is a JSON file in the workspace: `verify` re-runs what it recorded only
    through the selector policy (its selector and its recorded environment)."""
    import json
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(history, root, symlinks=True)
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    marker = tmp_path / "PWNED"
    (sentinel / "evilplugin.py").write_text(f"open({str(marker)!r}, 'a').close()\n")
    manifest_path = next(p for p in (root / "plans/active/DEMO-001/reports").rglob("manifest.json")
                         if json.loads(p.read_text()).get("row") == "A1")
    manifest = json.loads(manifest_path.read_text())
    if forge == "selector":
        # The row must name the same selector, or the audit no longer counts the run as its proof.
        manifest["selector"] = f"pytest -p evilplugin {OK} -q"
        plan = root / "plans/active/DEMO-001/implementation.md"
        plan.write_text(plan.read_text().replace(f"`pytest {OK} -q`", f"`pytest -p evilplugin {OK} -q`", 1))
        rule = "option-allowlist"
    else:
        manifest["env_overrides"] = {**manifest["env_overrides"], "PYTHONPATH": str(sentinel), "PYTEST_PLUGINS": "evilplugin"}
        rule = "env-allowlist"
    from ledger.running.evidence import seal_manifest

    # A forger who knows the format reseals it (no attestation key in this workspace).
    manifest_path.write_text(json.dumps(seal_manifest(manifest), indent=2) + "\n")
    result = cli(root, "verify", "DEMO-001", "A1", "--json")
    data = json.loads(result.stdout)
    assert len(data["results"]) == 1, (data, cli(root, "audit", "DEMO-001").stdout)
    (only,) = data["results"]
    assert not only["reproduced"] and f"[rule: {rule}]" in only["why"], only
    assert result.returncode == 1 and not marker.exists()


def test_a_pytest_cache_folder_linked_outside_is_refused_before_anything_is_created(tree, tmp_path):
    """ledger points pytest's cache at <workspace>/.pytest_cache; a link there leading out is refused."""
    root, marker, values = tree
    (root / ".pytest_cache").symlink_to(values["o"], target_is_directory=True)
    before = tree_state(tmp_path)
    result = cli(root, "do", "DEMO-001", "A1")
    assert_refused(result, "path-confinement", ".pytest_cache", marker)
    assert tree_state(tmp_path) == before
