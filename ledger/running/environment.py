"""The machine a run happened on: a JSON-serialisable snapshot and its `env_snapshot.txt` text.

Evidence is only comparable across runs when the interpreter, package versions,
hardware and commit are recorded beside it. Capturing must never be the reason
a run fails, so every probe degrades to None / [] instead of raising, and
nothing heavy (torch, numpy, git, psutil) is imported at module import time:
`ledger --help` must stay fast.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_PACKAGES = ("torch", "lightning", "numpy", "pytest")
NVIDIA_SMI_QUERY = ("--query-gpu=name,driver_version,memory.total", "--format=csv,noheader,nounits")
NVIDIA_SMI_TIMEOUT_S = 5
GIT_TIMEOUT_S = 20
CPUINFO = Path("/proc/cpuinfo")
SHORT_COMMIT = 12


def capture_environment(
    workspace_root: Path,
    packages: Iterable[str] = DEFAULT_PACKAGES,
    *,
    environ: Mapping[str, str] | None = None,
    python: str | None = None,
    reported: Callable[[], Mapping[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """Snapshot of interpreter, packages, hardware and git state; never raises.

    `environ` is the environment the measured command will see (default
    os.environ); pass the run's overrides merged in so CUDA_VISIBLE_DEVICES
    records what the tests saw rather than what ledger itself saw.
    `python`: the interpreter that runs the tests, when it is not ledger's own;
    its version and packages are read by running a small script under it, unless `reported`
    gives what that interpreter already wrote about itself (ledger.running.warm_start: the
    pre-started test interpreter, so no other interpreter starts while the tests run).
    """
    environ = os.environ if environ is None else environ
    if python is None or python == sys.executable:
        interpreter, versions = python_info(), package_versions(packages)
    else:
        own = reported() if reported is not None else None
        if own and isinstance(own.get("python"), dict):
            from ledger.running.warm_start import versions_from

            # As interpreter_snapshot gives them: the path as it was run, the names as asked.
            interpreter = {**own["python"], "executable": python}
            versions = versions_from(own, list(packages))
        else:
            interpreter, versions = interpreter_snapshot(python, packages, environ)
    return {
        "python": interpreter,
        "packages": versions,
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
        },
        "cpu": cpu_info(),
        "memory": memory_info(),
        "gpus": nvidia_gpus(),
        "cuda_visible_devices": environ.get("CUDA_VISIBLE_DEVICES"),
        "git": git_state(Path(workspace_root)),
        "captured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# The packages a snapshot lists when the workspace names none (no [tool.ledger] packages, no
# dependency list, no third-party import found).
FALLBACK_PACKAGES = ("pytest",)
MAX_PACKAGES = 40
MAX_SCANNED_FILES = 3000
# Import names whose distribution is named otherwise.
_DISTRIBUTION_OF = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "git": "gitpython",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "attr": "attrs",
    "google": "protobuf",
    "tf_keras": "tf-keras",
    "lightning_fabric": "lightning-fabric",
}
_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "env",
        "node_modules",
        "site-packages",
        "build",
        "dist",
        "__pycache__",
        ".tox",
        ".nox",
        "reports",
    }
)


def project_packages(root: Path, configured: Iterable[str] | None = None) -> list[str]:
    """The distributions a workspace's evidence should record versions of, by name only.

    `[tool.ledger] packages` when given; else the project's declared dependencies
    (pyproject `[project]` dependencies and optional groups, Poetry's, requirements*.txt,
    setup.cfg/setup.py install_requires, read as text, never executed); else the third-party
    modules its Python files import (`import tensorflow as tf` -> tensorflow). pytest, which
    runs every selector, is always listed. Versions are then read from metadata by
    `package_versions`/`interpreter_snapshot`, under whichever interpreter runs the tests,
    so nothing here imports the packages.
    """
    root = Path(root)
    if configured is not None:
        names = list(configured)
    else:
        names = declared_dependencies(root) or imported_packages(root)
    always = {_canonical(name) for name in FALLBACK_PACKAGES}
    unique: dict[str, str] = {}
    for name in names:
        if _canonical(name) not in always:
            unique.setdefault(_canonical(name), name)
    return [*list(unique.values())[: MAX_PACKAGES - len(FALLBACK_PACKAGES)], *FALLBACK_PACKAGES]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(line: str) -> str | None:
    """`torch>=2.1; python_version>'3.9'` -> `torch`; comments, options, URLs and paths -> None."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith(("-", ".", "/")) or "://" in line.split("@", 1)[0]:
        return None
    match = _REQUIREMENT_NAME.match(line)
    return match.group(1) if match else None


def declared_dependencies(root: Path) -> list[str]:
    names: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            data = {}
        project = data.get("project") or {}
        requirements = list(project.get("dependencies") or [])
        for group in (project.get("optional-dependencies") or {}).values():
            requirements += list(group or [])
        names += [
            n for n in map(requirement_name, (r for r in requirements if isinstance(r, str))) if n
        ]
        poetry = (data.get("tool") or {}).get("poetry") or {}
        for table in (
            poetry.get("dependencies") or {},
            *((g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()),
        ):
            names += [name for name in table if name.lower() != "python"]
    for path in sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt")):
        names += [n for n in map(requirement_name, _read_lines(path)) if n]
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        import configparser

        parser = configparser.ConfigParser()
        try:
            parser.read_string(setup_cfg.read_text(encoding="utf-8"))
            block = parser.get("options", "install_requires", fallback="")
        except (configparser.Error, UnicodeDecodeError, OSError):
            block = ""
        names += [n for n in map(requirement_name, block.splitlines()) if n]
    setup_py = root / "setup.py"
    if setup_py.is_file():
        names += _setup_py_requires(setup_py)
    return names


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _setup_py_requires(path: Path) -> list[str]:
    """The string literals of `install_requires=[...]`, read with ast (setup.py is never run)."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError, OSError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.keyword)
            and node.arg in ("install_requires", "tests_require")
            and isinstance(node.value, (ast.List, ast.Tuple))
        ):
            for item in node.value.elts:
                if (
                    isinstance(item, ast.Constant)
                    and isinstance(item.value, str)
                    and (name := requirement_name(item.value))
                ):
                    names.append(name)
    return names


# `pytest.importorskip("lightning")`, `importlib.import_module("tensorflow")`
_IMPORT_CALL = re.compile(r"\b(?:importorskip|import_module)\(\s*[\"']([A-Za-z_][\w.]*)[\"']")
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import\b|import[ \t]+([A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*))",
    re.M,
)


def imported_packages(root: Path) -> list[str]:
    """Third-party top-level modules the workspace's Python files import, most imported first
    (standard library and the workspace's own packages left out)."""
    from collections import Counter

    own = {
        p.stem if p.suffix == ".py" else p.name
        for folder in (root, root / "src")
        if folder.is_dir()
        for p in folder.iterdir()
    }
    counts: Counter[str] = Counter()
    for path in _python_files(root):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        modules: set[str] = set()
        modules.update(m.group(1).split(".")[0] for m in _IMPORT_CALL.finditer(text))
        for match in _IMPORT.finditer(text):
            if match.group(1):
                modules.add(match.group(1))
            else:
                modules.update(part.strip().split(".")[0] for part in match.group(2).split(","))
        counts.update(modules)
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    third_party = [
        m
        for m, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if m not in stdlib and m not in own and not m.startswith("_")
    ]
    return [_DISTRIBUTION_OF.get(m, m) for m in third_party]


def _python_files(root: Path):
    found = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name
                found += 1
                if found >= MAX_SCANNED_FILES:
                    return


def python_info() -> dict[str, str]:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def package_versions(packages: Iterable[str]) -> dict[str, str | None]:
    """Installed distribution versions, read from metadata: importing torch would cost seconds."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


# Run under the tests' interpreter: its own version and distribution metadata, as JSON.
_SNAPSHOT_SCRIPT = """
import json, platform, sys
from importlib.metadata import PackageNotFoundError, version
def v(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None
print(json.dumps({
    "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
               "executable": sys.executable, "prefix": sys.prefix},
    "packages": {name: v(name) for name in sys.argv[1:]},
}))
"""
SNAPSHOT_TIMEOUT_S = 30


def interpreter_snapshot(
    python: str, packages: Iterable[str], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """(python info, package versions) as `python` itself sees them; never raises."""
    import json

    names = list(packages)
    try:
        completed = subprocess.run(
            [python, "-c", _SNAPSHOT_SCRIPT, *names],
            capture_output=True,
            text=True,
            timeout=SNAPSHOT_TIMEOUT_S,
            check=False,
            env=dict(os.environ if environ is None else environ),
            stdin=subprocess.DEVNULL,
        )
        data = json.loads(completed.stdout) if completed.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        data = None
    if not isinstance(data, dict):
        return {"version": None, "implementation": None, "executable": python}, {
            name: None for name in names
        }
    info = data.get("python") or {}
    # The path as it was run (a venv's bin/python), not the base interpreter it links to.
    info["executable"] = python
    return info, {name: (data.get("packages") or {}).get(name) for name in names}


def package_versions_in(python: str | None, packages: Iterable[str]) -> dict[str, str | None]:
    """Versions of `packages` installed for `python` (None: ledger's own interpreter)."""
    if python is None or python == sys.executable:
        return package_versions(packages)
    return interpreter_snapshot(python, packages)[1]


def cpu_info() -> dict[str, Any]:
    logical, physical = _cpu_counts()
    return {"model": cpu_model(), "logical": logical, "physical": physical}


def cpu_model(cpuinfo: Path = CPUINFO) -> str | None:
    """The marketing name; /proc/cpuinfo has it on x86 Linux, where platform.processor() says just 'x86_64'."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or None


def _cpu_counts() -> tuple[int | None, int | None]:
    try:
        import psutil
    except ImportError:
        return os.cpu_count(), None
    return psutil.cpu_count(logical=True), psutil.cpu_count(logical=False)


def memory_info() -> dict[str, int | None]:
    try:
        import psutil
    except ImportError:
        return {"total_bytes": None, "available_bytes": None}
    memory = psutil.virtual_memory()
    return {"total_bytes": int(memory.total), "available_bytes": int(memory.available)}


def nvidia_gpus() -> list[dict[str, Any]]:
    """GPUs the driver reports; [] with no driver, a hung driver or unparseable output."""
    executable = shutil.which("nvidia-smi")
    if not executable:
        return []
    try:
        completed = subprocess.run(
            [executable, *NVIDIA_SMI_QUERY],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    # A driver/library mismatch exits non-zero with prose on stdout; that is not a GPU list.
    if completed.returncode != 0:
        return []
    return parse_nvidia_smi_csv(completed.stdout)


def parse_nvidia_smi_csv(text: str) -> list[dict[str, Any]]:
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        # rsplit: the last two fields are numeric, so a comma inside a product name stays in the name.
        fields = [field.strip() for field in line.rsplit(",", 2)]
        if len(fields) != 3 or not fields[0]:
            continue  # prose such as "No devices were found" is not a GPU
        name, driver, memory = fields
        gpus.append(
            {"name": name, "driver": driver or None, "memory_total_mib": _int_or_none(memory)}
        )
    return gpus


def _int_or_none(text: str) -> int | None:
    # nvidia-smi writes "[N/A]" or "[Not Supported]" for fields some GPUs lack.
    try:
        return int(float(text))
    except ValueError:
        return None


def git_state(workspace_root: Path) -> dict[str, Any] | None:
    """Branch, commit and dirtiness of the repository holding workspace_root; None when there is none.

    Asked of git itself in one call (`git status --porcelain=v2 --branch`: the branch, the
    commit and the changes, a few ms of CPU) rather than through GitPython, whose import alone
    costs ~0.3 s of CPU that a loaded machine takes from the tests running meanwhile.
    """
    executable = shutil.which("git")
    if not executable or not Path(workspace_root).is_dir():
        return None
    # Untracked files are left out: report folders and caches would otherwise make every run "dirty".
    # Before the first commit, anything staged shows here too (as an added entry).
    try:
        status = subprocess.run(
            [executable, "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=workspace_root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if status.returncode != 0:
        return None  # 128: not a repository
    headers = {}
    dirty = False
    for line in status.stdout.splitlines():
        if line.startswith("# "):
            key, _, value = line[2:].partition(" ")
            headers[key] = value
        elif line.strip():
            dirty = True
    oid, head = headers.get("branch.oid"), headers.get("branch.head")
    if oid is None or head is None:
        return None
    detached = head == "(detached)"
    return {
        "branch": None if detached else head,
        "commit": None if oid == "(initial)" else oid,
        "dirty": dirty,
        "detached": detached,
    }


# Formatting helpers: small and pure so a Jinja2 template can register them as filters.


def format_gib(num_bytes: int | None) -> str:
    if num_bytes is None:
        return "unknown"
    return f"{num_bytes / 2**30:.1f} GiB"


def format_mib(mib: int | None) -> str:
    return "unknown" if mib is None else f"{mib} MiB"


def format_package(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else f"{name} not installed"


def format_count(value: int | None) -> str:
    return "unknown" if value is None else str(value)


def format_gpu(index: int, gpu: Mapping[str, Any]) -> str:
    return f"GPU {index}: {gpu.get('name')}, driver {gpu.get('driver') or 'unknown'}, {format_mib(gpu.get('memory_total_mib'))}"


def format_cuda_visible_devices(value: str | None) -> str:
    if value is None:
        return "unset"
    # An empty value hides every GPU, which is not the same as leaving it unset.
    return value if value else '"" (no GPUs visible)'


def format_git(state: Mapping[str, Any] | None) -> str:
    if not state:
        return "not a git repository"
    branch = "(detached)" if state.get("detached") else state.get("branch") or "(unknown)"
    commit = state.get("commit")
    short = commit[:SHORT_COMMIT] if commit else "(no commits)"
    return f"{branch}@{short} ({'dirty' if state.get('dirty') else 'clean'})"


def render_snapshot_text(env: Mapping[str, Any]) -> str:
    """`env_snapshot.txt`: one fact per line, in a fixed order, so two snapshots diff cleanly."""
    python = env.get("python") or {}
    system = env.get("platform") or {}
    cpu = env.get("cpu") or {}
    memory = env.get("memory") or {}
    lines = [
        f"Python {python.get('version')} ({python.get('implementation')}, {python.get('executable')})"
    ]
    if (env.get("interpreter") or {}).get("why"):
        lines.append(f"Interpreter chosen: {env['interpreter']['why']}")
    lines += [
        format_package(name, version) for name, version in (env.get("packages") or {}).items()
    ]
    lines += [
        f"Platform: {system.get('system')} {system.get('release')} {system.get('machine')}",
        f"CPU model: {cpu.get('model') or 'unknown'}",
        f"CPU(s): logical {format_count(cpu.get('logical'))}, physical {format_count(cpu.get('physical'))}",
        f"MemTotal: {format_gib(memory.get('total_bytes'))} (available {format_gib(memory.get('available_bytes'))})",
    ]
    gpus = env.get("gpus") or []
    lines += [format_gpu(i, gpu) for i, gpu in enumerate(gpus)] or ["GPU: none"]
    lines += [
        f"CUDA_VISIBLE_DEVICES: {format_cuda_visible_devices(env.get('cuda_visible_devices'))}",
        f"git: {format_git(env.get('git'))}",
        f"Captured at: {env.get('captured_at')}",
    ]
    return "\n".join(lines) + "\n"
