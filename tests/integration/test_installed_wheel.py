"""Install like a user: a wheel (not an editable install) in a fresh venv outside the
checkout, then every writing command in a workspace that has no `templates/` folder.

Before the templates shipped inside the package, each of these exited 2 with
"'summary.md.j2' not found" (and `do` left a half-written report folder behind)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.workspace_factory import make_workspace

pytestmark = pytest.mark.slow


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def _source_copy(target: Path) -> Path:
    """What a wheel is built from, copied out of the checkout so building leaves no build/ or
    egg-info in it (and so the tree the wheel comes from holds nothing but the sources)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, target / name)
    # symlinks=True: ledger/_templates stays the link to ../templates it is in the repository.
    shutil.copytree(REPO / "ledger", target / "ledger", symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "templates", target / "templates", ignore=ignore)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding ledger installed from a wheel. Its third-party
    dependencies come from this test run's environment through a .pth path entry (a plain
    path line: the editable-install hook in that site-packages is not executed, so the
    checkout's ledger stays invisible)."""
    base = tmp_path_factory.mktemp("wheel")
    source = _source_copy(base / "src")
    dist = base / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)])
    assert built.returncode == 0, built.stdout + built.stderr
    # The distribution is agent-loop-ledger (the import package and the command stay `ledger`).
    (wheel,) = dist.glob("agent_loop_ledger-*.whl")

    venv = base / "venv"
    created = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    (Path(purelib) / "zz_test_dependencies.pth").write_text("\n".join(_dependency_paths()) + "\n")
    return venv / "bin"


def _dependency_paths() -> list[str]:
    """The import paths this test run gets its third-party packages from (a venv may chain to
    another through its own .pth files), minus the checkout and any path holding a `ledger`."""
    paths = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and path != REPO and not (path / "ledger").exists() and "site-packages" in path.parts:
            paths.append(str(path))
    return paths


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return env


def test_the_wheel_holds_every_template(installed):
    templates = sorted(p.relative_to(REPO / "templates").as_posix() for p in (REPO / "templates").rglob("*.j2"))
    probe = _run(
        [str(installed / "python"), "-c",
         "import json, ledger.render as r; from pathlib import Path; p = r.PACKAGE_TEMPLATES;"
         "print(json.dumps({'file': r.__file__, 'templates': sorted(x.relative_to(p).as_posix() for x in p.rglob('*.j2'))}))"],
        cwd=installed.parent, env=_clean_env(),
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert Path(found["file"]).is_relative_to(installed.parent), "the venv imported the checkout's ledger"
    assert not Path(found["file"]).is_relative_to(REPO)
    assert found["templates"] == templates


def test_the_wheel_installs_the_agent_loop_ledger_distribution_with_the_ledger_command(installed):
    """The distribution name (agent-loop-ledger) is not the import name or the command (ledger);
    its version comes from ledger/__init__.py, so `ledger --version` and the metadata agree."""
    probe = _run(
        [str(installed / "python"), "-c",
         "import json, ledger; from importlib.metadata import distribution as d;"
         "m = d('agent-loop-ledger');"
         "print(json.dumps({'name': m.metadata['Name'], 'version': m.version, 'module': ledger.__version__,"
         " 'scripts': sorted(e.name for e in m.entry_points if e.group == 'console_scripts')}))"],
        cwd=installed.parent, env=_clean_env(),
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["name"] == "agent-loop-ledger"
    assert found["version"] == found["module"]
    assert found["scripts"] == ["ledger"]
    version = _run([str(installed / "ledger"), "--version"], cwd=installed.parent, env=_clean_env())
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"ledger, version {found['module']}"


def test_every_writing_command_works_in_a_workspace_without_templates(installed, tmp_path):
    ws = make_workspace(tmp_path / "ws")
    assert not (ws / "templates").exists()
    ledger = str(installed / "ledger")

    def ledger_run(*args: str) -> subprocess.CompletedProcess:
        done = _run([ledger, *args], cwd=ws, env=_clean_env())
        assert done.returncode == 0, f"ledger {' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    did = json.loads(ledger_run("do", "DEMO-001", "A1", "--json").stdout)
    assert did["outcome"] == "passed"
    assert (ws / did["report_dir"] / "summary.md").read_text().strip()
    assert "Attempt #2" in (ws / "docs/fix_plan.md").read_text()

    ledger_run("mark", "DEMO-001", "A2", "partial", "--note", "blocked on review")
    assert "blocked on review" in (ws / "plans/active/DEMO-001/implementation.md").read_text()

    ledger_run("attempt", "add", "DEMO-001", "--summary", "Supervisor review of A1.")
    assert "Supervisor review of A1." in (ws / "docs/fix_plan.md").read_text()

    ledger_run("brief", "DEMO-001", "A2", "-o", "input.md")
    assert "DEMO-001" in (ws / "input.md").read_text()

    ledger_run("html", "-o", "site")
    assert "DEMO-001" in (ws / "site/index.html").read_text()

    selector_map = ledger_run("selectors", "--markdown").stdout
    assert "tests/test_demo.py::test_ok" in selector_map

    assert not (ws / "templates").exists()


def test_init_in_an_empty_folder_copies_the_packaged_templates(installed, tmp_path):
    target = tmp_path / "fresh"
    target.mkdir()
    done = _run([str(installed / "ledger"), "init"], cwd=target, env=_clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "templates/attempt.md.j2").read_bytes() == (REPO / "templates/attempt.md.j2").read_bytes()
