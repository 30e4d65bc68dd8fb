"""ledger.running.environment: the environment snapshot must be complete, honest and never fail a run."""

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from ledger.running import environment as envinfo
from ledger.config import load_config
from ledger.running.environment import capture_environment, project_packages, render_snapshot_text
from ledger.errors import BadInput

REPO = Path(__file__).resolve().parents[2]
H100_CSV = "NVIDIA H100 80GB HBM3, 550.54.15, 81559\n"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "a.txt").write_text("one\n")
    _git(root, "add", "a.txt")
    _git(root, "commit", "-q", "-m", "first")
    return root


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(envinfo.shutil, "which", lambda name: None)


def _fake_nvidia_smi(monkeypatch, stdout="", returncode=0, raises=None):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs))
        if raises:
            raise raises
        return subprocess.CompletedProcess(argv, returncode, stdout=stdout, stderr="")

    monkeypatch.setattr(envinfo.shutil, "which", lambda name: "/usr/bin/nvidia-smi" if name == "nvidia-smi" else None)
    monkeypatch.setattr(envinfo.subprocess, "run", fake_run)
    return calls


def test_snapshot_has_every_section_and_is_json(tmp_path, no_gpu):
    env = capture_environment(tmp_path)
    assert list(env) == ["python", "packages", "platform", "cpu", "memory", "gpus", "cuda_visible_devices", "git", "captured_at"]
    assert set(env["python"]) == {"version", "implementation", "executable"}
    assert env["python"]["executable"] == sys.executable
    assert set(env["platform"]) == {"system", "release", "machine"}
    assert set(env["cpu"]) == {"model", "logical", "physical"}
    assert isinstance(env["cpu"]["logical"], int) and env["cpu"]["logical"] >= 1
    assert isinstance(env["memory"]["total_bytes"], int) and env["memory"]["total_bytes"] > 0
    assert isinstance(env["memory"]["available_bytes"], int)
    assert env["gpus"] == []
    assert env["captured_at"].endswith("Z") and "T" in env["captured_at"]
    assert json.loads(json.dumps(env)) == env


def test_package_versions_come_from_metadata(tmp_path, no_gpu):
    env = capture_environment(tmp_path, packages=("pytest", "ledger-no-such-package"))
    assert env["packages"] == {"pytest": version("pytest"), "ledger-no-such-package": None}


def test_default_packages_are_reported_in_order(tmp_path, no_gpu):
    assert list(capture_environment(tmp_path)["packages"]) == ["torch", "lightning", "numpy", "pytest"]


def test_cuda_visible_devices_follows_the_given_environment(tmp_path, no_gpu, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert capture_environment(tmp_path)["cuda_visible_devices"] is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert capture_environment(tmp_path)["cuda_visible_devices"] == "1"
    assert capture_environment(tmp_path, environ={"CUDA_VISIBLE_DEVICES": ""})["cuda_visible_devices"] == ""


def test_cpu_model_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD Ryzen 9 5950X 16-Core Processor\n")
    assert envinfo.cpu_model(cpuinfo) == "AMD Ryzen 9 5950X 16-Core Processor"


def test_cpu_model_falls_back_without_cpuinfo(tmp_path, monkeypatch):
    monkeypatch.setattr(envinfo.platform, "processor", lambda: "arm")
    assert envinfo.cpu_model(tmp_path / "missing") == "arm"


def test_nvidia_smi_output_is_parsed(tmp_path, monkeypatch):
    calls = _fake_nvidia_smi(monkeypatch, stdout=H100_CSV + H100_CSV)
    gpus = capture_environment(tmp_path)["gpus"]
    assert gpus == [{"name": "NVIDIA H100 80GB HBM3", "driver": "550.54.15", "memory_total_mib": 81559}] * 2
    argv, kwargs = calls[0]
    assert argv == ["/usr/bin/nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader,nounits"]
    assert kwargs["timeout"] == 5


@pytest.mark.parametrize("failure", [
    {"returncode": 9, "stdout": "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"},
    {"raises": subprocess.TimeoutExpired(["nvidia-smi"], 5)},
    {"raises": PermissionError("nvidia-smi")},
    {"stdout": "No devices were found\n"},
])
def test_failing_nvidia_smi_means_no_gpus(tmp_path, monkeypatch, failure):
    _fake_nvidia_smi(monkeypatch, **failure)
    assert capture_environment(tmp_path)["gpus"] == []


def test_absent_nvidia_smi_is_not_run(tmp_path, monkeypatch, no_gpu):
    monkeypatch.setattr(envinfo.subprocess, "run", lambda *a, **k: pytest.fail("nvidia-smi must not run"))
    assert capture_environment(tmp_path)["gpus"] == []


def test_comma_in_gpu_name_stays_in_the_name():
    assert envinfo.parse_nvidia_smi_csv("Acme, Inc. X1, 535.1, 16384\n") == [
        {"name": "Acme, Inc. X1", "driver": "535.1", "memory_total_mib": 16384}
    ]


def test_unsupported_gpu_field_becomes_none():
    assert envinfo.parse_nvidia_smi_csv("GRID A100, 535.1, [N/A]\n") == [
        {"name": "GRID A100", "driver": "535.1", "memory_total_mib": None}
    ]


def test_git_clean_then_dirty(repo):
    head = _git(repo, "rev-parse", "HEAD")
    assert envinfo.git_state(repo) == {"branch": "main", "commit": head, "dirty": False, "detached": False}
    (repo / "untracked.txt").write_text("x\n")
    assert envinfo.git_state(repo)["dirty"] is False
    (repo / "a.txt").write_text("two\n")
    assert envinfo.git_state(repo)["dirty"] is True


def test_git_found_from_a_subdirectory(repo):
    sub = repo / "plans" / "active"
    sub.mkdir(parents=True)
    assert envinfo.git_state(sub)["branch"] == "main"


def test_git_detached_head(repo):
    head = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "--detach")
    assert envinfo.git_state(repo) == {"branch": None, "commit": head, "dirty": False, "detached": True}


def test_git_repo_without_commits(tmp_path):
    _git(tmp_path, "init", "-q")
    assert envinfo.git_state(tmp_path) == {"branch": "main", "commit": None, "dirty": False, "detached": False}
    (tmp_path / "a.txt").write_text("x\n")
    _git(tmp_path, "add", "a.txt")
    assert envinfo.git_state(tmp_path)["dirty"] is True


def test_not_a_repo_gives_none(tmp_path, no_gpu, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert capture_environment(tmp_path)["git"] is None


def test_git_unavailable_gives_none(repo, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))  # no git executable to ask
    assert envinfo.git_state(repo) is None


def test_missing_workspace_gives_none(tmp_path):
    assert envinfo.git_state(tmp_path / "nowhere") is None


def _sample_env(**overrides):
    env = {
        "python": {"version": "3.11.7", "implementation": "CPython", "executable": "/usr/bin/python3"},
        "packages": {"torch": "2.13.0+cpu", "lightning": "2.6.6", "numpy": None, "pytest": "8.3.1"},
        "platform": {"system": "Linux", "release": "6.8.0", "machine": "x86_64"},
        "cpu": {"model": "AMD Ryzen 9 5950X 16-Core Processor", "logical": 32, "physical": 16},
        "memory": {"total_bytes": 131806312 * 1024, "available_bytes": 64 * 2**30},
        "gpus": [],
        "cuda_visible_devices": None,
        "git": {"branch": "main", "commit": "0123456789abcdef" * 2 + "01234567", "dirty": True, "detached": False},
        "captured_at": "2025-10-19T19:34:25Z",
    }
    env.update(overrides)
    return env


def test_rendered_snapshot_text():
    assert render_snapshot_text(_sample_env()) == (
        "Python 3.11.7 (CPython, /usr/bin/python3)\n"
        "torch 2.13.0+cpu\n"
        "lightning 2.6.6\n"
        "numpy not installed\n"
        "pytest 8.3.1\n"
        "Platform: Linux 6.8.0 x86_64\n"
        "CPU model: AMD Ryzen 9 5950X 16-Core Processor\n"
        "CPU(s): logical 32, physical 16\n"
        "MemTotal: 125.7 GiB (available 64.0 GiB)\n"
        "GPU: none\n"
        "CUDA_VISIBLE_DEVICES: unset\n"
        "git: main@0123456789ab (dirty)\n"
        "Captured at: 2025-10-19T19:34:25Z\n"
    )


def test_rendered_gpus_devices_and_git_variants():
    gpu = {"name": "NVIDIA H100 80GB HBM3", "driver": "550.54.15", "memory_total_mib": 81559}
    text = render_snapshot_text(_sample_env(
        gpus=[gpu, gpu], cuda_visible_devices="",
        git={"branch": None, "commit": None, "dirty": False, "detached": True},
    ))
    assert "GPU 0: NVIDIA H100 80GB HBM3, driver 550.54.15, 81559 MiB\nGPU 1: " in text
    assert "GPU: none" not in text
    assert 'CUDA_VISIBLE_DEVICES: "" (no GPUs visible)\n' in text
    assert "git: (detached)@(no commits) (clean)\n" in text
    assert "git: not a git repository\n" in render_snapshot_text(_sample_env(git=None))


def test_rendering_a_real_capture_is_deterministic(tmp_path, no_gpu):
    env = capture_environment(REPO)
    assert render_snapshot_text(env) == render_snapshot_text(json.loads(json.dumps(env)))


def test_formatting_helpers():
    assert envinfo.format_gib(None) == "unknown"
    assert envinfo.format_gib(3 * 2**30 // 2) == "1.5 GiB"
    assert envinfo.format_mib(81559) == "81559 MiB"
    assert envinfo.format_package("torch", None) == "torch not installed"


def test_importing_envinfo_stays_light():
    probe = (
        "import ledger.running.environment, sys; "
        "heavy = [m for m in ('torch', 'numpy', 'git', 'psutil') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=REPO, check=True, env={"PYTHONPATH": str(REPO), "PATH": ""})


# ------------------------------------------------------------ the packages a snapshot lists


def test_configured_packages_win(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy\n")
    assert project_packages(tmp_path, ("tensorflow", "numpy")) == ["tensorflow", "numpy", "pytest"]


def test_declared_dependencies_of_pyproject_requirements_setup_cfg(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\ndependencies = ["tensorflow>=2.15; python_version>\'3.9\'", "numpy"]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8", "hypothesis"]\n'
    )
    (tmp_path / "requirements-dev.txt").write_text("# tools\n-r requirements.txt\nscikit-image==0.22  # images\nhttps://x/y.whl\n./local\n")
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires =\n    dill\n    Numpy>=1\n")
    assert project_packages(tmp_path) == ["tensorflow", "numpy", "hypothesis", "scikit-image", "dill", "pytest"]


def test_setup_py_is_read_not_run(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "setup.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from setuptools import setup\nsetup(name='p', install_requires=['tensorflow[and-cuda]>=2.15', 'scipy'])\n"
    )
    assert project_packages(tmp_path) == ["tensorflow", "scipy", "pytest"]
    assert not marker.exists()


def test_without_a_dependency_list_the_imports_name_them(tmp_path):
    """A TensorFlow project with no metadata (like the exported PtychoPINN trees): its own
    package, the standard library and relative imports are not dependencies."""
    (tmp_path / "ptycho").mkdir()
    (tmp_path / "ptycho" / "model.py").write_text(
        "import os, sys\nimport tensorflow as tf\nfrom tensorflow.keras import layers\nimport numpy as np\n"
        "from ptycho import params\nfrom . import loader\nimport cv2\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_model.py").write_text(
        "import pytest\nimport tensorflow as tf\nimport numpy\nL = pytest.importorskip('lightning')\n"
    )
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("import somethingvendored\n")
    assert project_packages(tmp_path) == ["numpy", "tensorflow", "opencv-python", "lightning", "pytest"]


def test_a_bare_workspace_lists_pytest(tmp_path):
    assert project_packages(tmp_path) == ["pytest"]


def test_versions_are_read_without_importing_the_packages(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy\npytest\n")
    probe = (
        "import sys\nfrom pathlib import Path\n"
        "from ledger.running.environment import package_versions, project_packages\n"
        f"versions = package_versions(project_packages(Path({str(tmp_path)!r})))\n"
        "print(sorted(versions), 'numpy' in sys.modules, 'pytest' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['numpy', 'pytest'] False False"


def test_packages_setting_is_validated(tmp_path):
    (tmp_path / "ledger.toml").write_text('[tool.ledger]\npackages = "tensorflow"\n')
    with pytest.raises(BadInput, match="packages must be a list"):
        load_config(tmp_path)
    (tmp_path / "ledger.toml").write_text('[tool.ledger]\npackages = ["tensorflow"]\n')
    assert load_config(tmp_path).packages == ("tensorflow",)
