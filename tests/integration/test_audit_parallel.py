"""A parallel audit (worker processes, ledger.reading.audit.fork) says exactly what the
sequential one says: same text, same --json, same exit code, for every flag, on a workspace
where every row class and every issue kind occurs. And it falls back to the sequential audit
whenever it should (no fork, other threads, few initiatives, LEDGER_AUDIT_JOBS=1, a worker
that fails), so nothing it prints ever differs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.editing.repair import journal_path
from ledger.reading.audit import fork
from ledger.reading.audit.model import AuditClass, IssueKind
from ledger.running.evidence import hash_files, seal_manifest

INITIATIVES = 12
BASE_DATE = "2026-01-01T00:00:00Z"
JUNIT = (
    '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" '
    'skipped="0" tests="1"><testcase classname="tests.test_x" name="test_x" time="0.001" /></testsuite></testsuites>\n'
)
FLAGS = [[], ["--json"], ["--strict"], ["--all"], ["--require-attested"], ["--strict", "--all", "--json"]]


def _git(root, *args, date=None):
    env = dict(os.environ)  # a module fixture: before the tests' git_identity
    for role in ("AUTHOR", "COMMITTER"):
        env.update({f"GIT_{role}_NAME": "ledger tests", f"GIT_{role}_EMAIL": "tests@example.invalid"})
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout


def _run(folder, row, initiative, commit, stamp, *, selector=None, outcome="passed", seal=True, complete=True,
         **extra):
    """A report folder as `ledger do` writes it (sealed, JUnit, log summary, times, commit)."""
    folder.mkdir(parents=True)
    passed = outcome == "passed"
    (folder / "pytest.log").write_text(
        f"{row}\n===== {'1 passed' if passed else '1 failed'} in 0.01s =====\n", encoding="utf-8"
    )
    (folder / "junit.xml").write_text(JUNIT if passed else JUNIT.replace('failures="0"', 'failures="1"')
                                      .replace('time="0.001" />', 'time="0.001"><failure message="x"/></testcase>'))
    started = f"{stamp[:13]}:{stamp[13:15]}:{stamp[15:17]}Z"
    manifest = {
        "version": 2 if seal else 1, "complete": complete, "tool": "ledger do", "initiative": initiative,
        "row": row, "plan": f"plans/active/{initiative}/implementation.md",
        "selector": selector or f"pytest tests/test_{row.lower()}.py::test_x -q", "outcome": outcome,
        "exit_code": 0 if passed else 1,
        "counts": {"tests": 1, "passed": int(passed), "failed": int(not passed), "errors": 0, "skipped": 0},
        "started_at": started, "finished_at": started, "git_commit": commit, **extra,
    }
    manifest["files"] = hash_files(folder)
    if seal:
        manifest = seal_manifest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder


def make_audit_workspace(root):
    """INITIATIVES initiatives, each with a row of every audit class and a report folder in
    every state; a ledger and findings file with every kind of bookkeeping issue."""
    root.mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "lib/code.py").write_text("x = 1\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "library", date=BASE_DATE)
    head = _git(root, "rev-parse", "HEAD").strip()
    ledger = ["# Fix Plan Ledger", ""]
    for i in range(INITIATIVES):
        name = f"INIT-{i:03d}"
        folder = root / "plans/active" / name
        reports = folder / "reports"
        day = f"2026-01-{2 + i % 20:02d}"

        def stamp(hour, day=day):
            return f"{day}T{hour:02d}0000Z"

        _run(reports / stamp(1) / "a1", "A1", name, head, stamp(1))
        hand = reports / stamp(2) / "a2"
        hand.mkdir(parents=True)
        (hand / "notes.md").write_text("hand-made\n")
        _run(reports / stamp(3) / "a4", "A4", name, head, stamp(3))
        tampered = _run(reports / stamp(4) / "a5", "A5", name, head, stamp(4))
        (tampered / "pytest.log").write_text("edited\n")
        missing = _run(reports / stamp(5) / "a6", "A6", name, head, stamp(5))
        (missing / "junit.xml").unlink()
        _run(reports / stamp(6) / "a7", "A7", name, head, stamp(6), selector="pytest tests/other.py -q")
        _run(reports / stamp(7) / "a10", "A10", name, "f" * 40, stamp(7))
        _run(reports / stamp(8) / "a11", "A11", name, head, stamp(8), outcome="failed")
        _run(reports / stamp(9) / "orphan", "A1", name, head, stamp(9))
        _run(reports / stamp(10) / "half", "A8", name, head, stamp(10), complete=False)
        _run(reports / stamp(11) / "unsealed", "A8", name, head, stamp(11), seal=False)
        _run(reports / "2099-01-01T000000Z" / "future", "A11", name, head, "2099-01-01T000000Z")
        _run(reports / stamp(12) / "verify_a1", "A1", name, head, stamp(12), outcome="failed",
             tool="ledger verify", verifies=f"plans/active/{name}/reports/{stamp(1)}/a1/", at="recorded",
             reproduced=False, why="failed")
        (reports / stamp(12) / ".a1.abcdefgh.tmp").write_text("")  # a killed ledger's temp file
        sel = "Run `pytest tests/test_{}.py::test_x -q`."
        rows = [
            f"| A1 | verified | [x] | {sel.format('a1')} Artifacts: `reports/{stamp(1)}/a1/` (POLICY-001) |",
            f"| A2 | evidenced | [x] | Artifacts: `reports/{stamp(2)}/a2/notes.md` |",
            "| A3 | claimed | [x] | Artifacts: `reports/<TS>/a3/` and `reports/2026-01-01T000000Z/gone.md` |",
            f"| A4 | contradicted | [ ] | {sel.format('a4')} |",
            f"| A5 | tampered | [x] | {sel.format('a5')} Artifacts: `reports/{stamp(4)}/a5/` |",
            f"| A6 | missing | [x] | {sel.format('a6')} Artifacts: `reports/{stamp(5)}/a6/` |",
            f"| A7 | inconsistent | [x] | {sel.format('a7')} Artifacts: `reports/{stamp(6)}/a7/`, `reports/{stamp(1)}/a1/` |",
            f"| A8 | partial | [P] | Artifacts: `reports/{stamp(10)}/half/`, `reports/{stamp(11)}/unsealed/` |",
            "| A9 | unknown | [?!] | cites POLICY-999 |",
            f"| A10 | foreign commit | [x] | {sel.format('a10')} Artifacts: `reports/{stamp(7)}/a10/` |",
            f"| A11 | done, failed | [x] | {sel.format('a11')} Artifacts: `reports/{stamp(8)}/a11/`, `reports/2099-01-01T000000Z/future/` |",
            "| A12 | open | [ ] | nothing yet |",
        ]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "implementation.md").write_text(
            f"# {name}\n\n- Findings: POLICY-001, POLICY-999\n\n### Phase A — Work\n"
            "| ID | Task Description | State | How/Why & Guidance |\n| --- | --- | --- | --- |\n"
            + "\n".join(rows) + "\n| A13 |\n",
            encoding="utf-8",
        )
        ledger += [f"## [{name}] Item {i}", "- Status: in_progress", "- Attempts History:",
                   f"  * [2026-01-02] Attempt #1 — Phase A.A2: see `reports/{stamp(2)}/a2/notes.md`.",
                   "  * [2026-01-03] Attempt #1 — Phase A.A3: see `reports/<TS>/a3/summary.md`.",
                   "  * [2026-01-04] Attempt #4 — Phase A.A12: see `reports/2026-01-01T000000Z/none/summary.md`.",
                   ""]
    ledger += ["## [GHOST-001] No plan", "- Status: pending", "- Attempts History:",
               "  * [2026-01-02] Attempt #1 — nothing", "",
               "## [INIT-000] Again", "- Status: pending", "",
               "## TODOs", "- [x] INIT-001.A12: done by the ledger's account", "- [ ] INIT-002.A1: open here", ""]
    (root / "docs").mkdir()
    (root / "docs/fix_plan.md").write_text("\n".join(ledger), encoding="utf-8")
    (root / "docs/findings.md").write_text(
        "| Finding ID | Synopsis |\n| --- | --- |\n| POLICY-001 | x |\n", encoding="utf-8"
    )
    (root / "input.md").write_text("Artifacts: `plans/active/INIT-003/reports/2026-01-05T090000Z/orphan/`\n")
    (root / "stray.log").write_text("left here\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "plans and evidence", date="2026-01-25T00:00:00Z")
    (root / "lib/code.py").write_text("x = 2\n")  # library code changed since every run: stale
    _git(root, "commit", "-q", "-am", "library change", date="2026-01-26T00:00:00Z")
    journal = journal_path(root)
    journal.write_text(json.dumps({"folder": "plans/active/INIT-000/reports/x/"}), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return make_audit_workspace(tmp_path_factory.mktemp("parallel") / "ws")


def alone() -> bool:
    """No other thread in this test process (one another test left would keep audits sequential)."""
    return threading.active_count() == 1


@pytest.fixture
def forks(monkeypatch):
    """How many workers the audit forked (os.fork, counted)."""
    calls = []
    real_fork = os.fork

    def counting_fork():
        calls.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    return calls


def audit(root, monkeypatch, jobs, *args):
    monkeypatch.setenv(fork.JOBS_ENV, str(jobs))
    result = CliRunner().invoke(main, ["audit", *args, "--root", str(root)], catch_exceptions=False)
    return result.exit_code, result.output


def test_the_workspace_holds_every_row_class_and_issue_kind(workspace, monkeypatch):
    code, output = audit(workspace, monkeypatch, 1, "--json")
    data = json.loads(output)
    rows = [row for item in data["initiatives"] for row in item["rows"]]
    assert code == 1 and len(data["initiatives"]) == INITIATIVES
    assert {row["audit"] for row in rows} == set(AuditClass)
    assert {issue["kind"] for issue in data["issues"]} == set(IssueKind)
    assert any(row["stale"] for row in rows)
    assert any(row["reproduction"] for row in rows)


@pytest.mark.parametrize("flags", FLAGS, ids=lambda flags: " ".join(flags) or "text")
def test_parallel_and_sequential_audits_print_the_same_bytes(workspace, monkeypatch, forks, flags):
    sequential = audit(workspace, monkeypatch, 1, *flags)
    assert not forks
    for jobs in (2, 3):
        assert audit(workspace, monkeypatch, jobs, *flags) == sequential
    assert len(forks) == 1 + 2 or not alone()  # one worker for two processes, two for three


@pytest.mark.parametrize("flags", [[], ["--json"], ["--all", "--strict"]], ids=["text", "json", "all-strict"])
def test_the_executable_prints_what_the_command_prints(workspace, monkeypatch, flags):
    """`ledger audit` as a process ends with os._exit and its collector off (ledger.entry):
    every byte of a report written in one go through a pipe, and the exit status, survive."""
    expected = audit(workspace, monkeypatch, 3, *flags)
    env = {**os.environ, fork.JOBS_ENV: "3"}
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "audit", *flags, "--root", str(workspace)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert (done.returncode, done.stdout) == expected
    assert done.stderr == ""


def test_one_initiative_and_since_match_too(workspace, monkeypatch):
    first = _git(workspace, "rev-list", "--max-parents=0", "HEAD").strip()
    for args in (["INIT-004", "--json"], ["--since", first], ["--since", "HEAD~1", "--json"]):
        assert audit(workspace, monkeypatch, 3, *args) == audit(workspace, monkeypatch, 1, *args)


def test_an_error_surfaces_exactly_as_it_does_sequentially(workspace, tmp_path, monkeypatch):
    root = tmp_path / "ws"
    shutil.copytree(workspace, root, symlinks=True)
    outside = tmp_path / "outside.md"
    outside.write_text("# elsewhere\n")
    (root / "plans/active/INIT-007/notes.md").symlink_to(outside)  # a plan file leaving the workspace
    sequential = audit(root, monkeypatch, 1)
    assert sequential[0] == 2 and "notes.md" in sequential[1]
    assert audit(root, monkeypatch, 3) == sequential


def test_a_failing_worker_falls_back_to_the_sequential_audit(workspace, monkeypatch, forks):
    sequential = audit(workspace, monkeypatch, 1, "--json")
    parent = os.getpid()
    real = fork.initiative_parts

    def failing_in_workers(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("worker failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(fork, "initiative_parts", failing_in_workers)
    assert audit(workspace, monkeypatch, 2, "--json") == sequential
    assert forks or not alone()  # it did try


def test_a_worker_killed_falls_back_to_the_sequential_audit(workspace, monkeypatch, forks):
    sequential = audit(workspace, monkeypatch, 1)
    parent = os.getpid()
    real = fork.initiative_parts

    def dying_in_workers(*args, **kwargs):
        if os.getpid() != parent:
            os._exit(0)  # exits "cleanly" without sending anything
        return real(*args, **kwargs)

    monkeypatch.setattr(fork, "initiative_parts", dying_in_workers)
    assert audit(workspace, monkeypatch, 2) == sequential
    assert forks or not alone()


def test_when_the_audit_stays_sequential(monkeypatch):
    monkeypatch.delenv(fork.JOBS_ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    threads = [1]
    monkeypatch.setattr(threading, "active_count", lambda: threads[0])
    assert fork.audit_jobs(100) == 4
    assert fork.audit_jobs(fork.MIN_INITIATIVES_PER_JOB * 2 - 1) == 1  # too few initiatives
    assert fork.audit_jobs(fork.MIN_INITIATIVES_PER_JOB * 3) == 3
    monkeypatch.setenv(fork.JOBS_ENV, "1")
    assert fork.audit_jobs(100) == 1  # asked for
    monkeypatch.setenv(fork.JOBS_ENV, "2")
    assert fork.audit_jobs(100) == 2
    monkeypatch.delenv(fork.JOBS_ENV)
    threads[0] = 2
    assert fork.audit_jobs(100) == 1  # another thread runs: a fork would copy only this one
    threads[0] = 1
    assert fork.audit_jobs(100) == 4
    monkeypatch.delattr(os, "fork")
    assert fork.audit_jobs(100) == 1  # no fork on this platform


def test_few_initiatives_never_fork(workspace, tmp_path, monkeypatch, forks):
    root = tmp_path / "ws"
    shutil.copytree(workspace, root, symlinks=True)
    for i in range(fork.MIN_INITIATIVES_PER_JOB * 2 - 1, INITIATIVES):
        shutil.rmtree(root / f"plans/active/INIT-{i:03d}")
    monkeypatch.delenv(fork.JOBS_ENV, raising=False)
    CliRunner().invoke(main, ["audit", "--root", str(root)], catch_exceptions=False)
    assert not forks


def test_a_worker_dying_mid_pickle_falls_back_to_the_sequential_audit(workspace, monkeypatch, forks):
    sequential = audit(workspace, monkeypatch, 1, "--json")
    parent = os.getpid()
    real_dump = fork.pickle.dump

    def truncated(obj, file, *args, **kwargs):
        if os.getpid() != parent:
            file.write(fork.pickle.dumps(obj, *args, **kwargs)[:1000])  # half a pickle, then gone
            file.flush()
            os._exit(0)
        return real_dump(obj, file, *args, **kwargs)

    monkeypatch.setattr(fork.pickle, "dump", truncated)
    assert audit(workspace, monkeypatch, 2, "--json") == sequential
    assert forks or not alone()


def test_shares_deal_every_initiative_once_in_turn():
    names = [f"INIT-{i:03d}" for i in range(200)]
    for jobs in (2, 3, 8):
        shares = fork.interleaved_shares(names, jobs)
        assert sorted(name for share in shares for name in share) == names
        assert max(map(len, shares)) - min(map(len, shares)) <= 1
    assert fork.interleaved_shares(names[:8], 2) == [names[0:8:2], names[1:8:2]]
    assert fork.interleaved_shares(names[:7], 3) == [names[0:7:3], names[1:7:3], names[2:7:3]]
