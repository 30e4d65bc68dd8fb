import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests never fail on time: a 200 ms per-example deadline (hypothesis' default) or its
# too_slow health check measures the machine's load, not the code (a slow example then failed,
# or passed on the replay and was reported Flaky). Tests that bound time measure CPU work.
settings.register_profile("ledger-tests", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ledger-tests")

# tests/data holds workspaces the tests copy and run (golden inputs include a test file that
# fails on purpose): data, never part of this suite.
collect_ignore_glob = ["data/*"]

REPO = Path(__file__).resolve().parent.parent
# The read-only real-world corpus that sits beside the checkout (public data
# written by a real agent loop in hoidn/PtychoPINN; see its README).
CORPUS = REPO.parent / "shared" / "corpus"


def corpus_files(suffix: str = ".md") -> list[Path]:
    if not CORPUS.is_dir():
        return []
    # Only the flat `<commit>__<path>` files: the corpus also holds folders (workspaces/).
    return sorted(
        p for p in CORPUS.iterdir()
        if p.is_file() and "__" in p.name and p.name.endswith(suffix) and p.name != "README.md"
    )


def corpus_target_path(name: str) -> str:
    """`2e97fa9__plans__active__X__implementation.md` -> `plans/active/X/implementation.md`."""
    return name.split("__", 1)[1].replace("__", "/")


# The developer's environment must reach neither the tests nor the pytest runs `ledger do`
# starts from them (they inherit it): PYTEST_ADDOPTS=-p no:cacheprovider in the outer run
# turned the inner runs' cache off and failed a test; PY_COLORS/COLUMNS change the inner logs
# tests read; VIRTUAL_ENV picks the inner runs' Python; GIT_DIR & co. (tests run from a git
# hook) point every git command at the developer's repository; LEDGER_FAULT_AT kills `do`.
DROPPED_ENV = frozenset({
    "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_DEBUG", "PYTEST_THEME",
    "PYTEST_THEME_MODE", "PY_COLORS", "FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES",
    "PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONBREAKPOINT", "PYTHONINSPECT", "VIRTUAL_ENV",
    "LEDGER_FAULT_AT", "LEDGER_RUN_ID", "LEDGER_TRUSTED_KEYS", "XDG_CONFIG_HOME", "LEDGER_AUDIT_JOBS",
})
DROPPED_ENV_PREFIXES = ("GIT_",)  # GIT_DIR, GIT_INDEX_FILE, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT...


@pytest.fixture(autouse=True, scope="session")
def controlled_environment(tmp_path_factory):
    """A known environment for the whole session: no developer settings above, and a HOME of
    its own with an empty git configuration (a global gitignore, core.autocrlf, commit.gpgsign
    or init.defaultBranch would otherwise change what git does in the tests' repositories)."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name in DROPPED_ENV or name.startswith(DROPPED_ENV_PREFIXES):
                patch.delenv(name)
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


@pytest.fixture(autouse=True)
def git_identity(monkeypatch):
    """Commits made by ledger (do --commit) and by git in tests need an identity; a fresh CI
    machine has no global one."""
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "ledger tests")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tests@example.invalid")


@pytest.fixture(autouse=True)
def no_attestation_key(monkeypatch, tmp_path_factory):
    """Runs in tests are unattested unless a test makes a key: the developer's own
    ~/.config/ledger/key must neither sign test evidence nor be needed by it."""
    monkeypatch.setenv("LEDGER_KEY_PATH", str(tmp_path_factory.getbasetemp() / "no-such-ledger-key"))
    monkeypatch.delenv("LEDGER_TRUSTED_KEYS", raising=False)


@pytest.fixture
def corpus_workspace(tmp_path):
    """The corpus files placed at their original paths in a temp workspace."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    root = tmp_path / "corpus_ws"
    for path in corpus_files("") :
        if path.name == "README.md":
            continue
        target = root / corpus_target_path(path.name)
        if target.exists():
            # Two snapshots of one path (e.g. two fix_plan.md layouts): keep the first.
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (root / "plans").mkdir(exist_ok=True)
    return root


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


LEDGER_BIN = Path(sys.executable).parent / "ledger"
