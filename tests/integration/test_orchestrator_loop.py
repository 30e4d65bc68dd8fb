"""Two agents on two machines, played the way the real orchestrator runs them.

hoidn/PtychoPINN `scripts/orchestration/` alternates a supervisor and an engineer on two
clones of one branch: each turn pulls with `git fetch` + `git rebase --autostash`, runs the
agent, auto-commits reports by file extension (never `.xml`), refuses to hand over while an
untracked file outside a whitelist is left, flips the turn in a committed `sync/state.json`
and pushes. Here both agents use ledger (`do --commit`, `attempt add`, `mark`) for 20 turns,
the idle one adding an attempt to the same row in the same moment (committed locally, or
left uncommitted for the autostash), and a `.gitignore` ignores `*.log` as a real branch
does. Afterwards: no attempt lost or fused, no conflict markers, every run's evidence intact
and verified on both clones, no guard failure. A second scenario pulls with `git merge`.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.documents.fix_plan import GLOBAL_NUMBER, parse_ledger
from ledger.markdown.text import SourceText
from tests.conftest import git

pytestmark = pytest.mark.slow

TURNS = 20
INITIATIVE = "LOOP-001"
RUN_ROWS = ("R1", "R2", "R3")
MARK_ROWS = ("S1", "S2")

PLAN = f"""# {INITIATIVE} — Two-machine loop

### Phase R — Runs
| ID | Task Description | State | How/Why & Guidance |
| --- | --- | --- | --- |
| R1 | First check | [ ] | Run `pytest tests/test_loop.py::test_one -q`. |
| R2 | Second check | [ ] | Run `pytest tests/test_loop.py::test_two -q`. |
| R3 | Third check | [ ] | Run `pytest tests/test_loop.py::test_three -q`. |

### Phase S — Supervision
| ID | Task Description | State | How/Why & Guidance |
| --- | --- | --- | --- |
| S1 | Review runs | [ ] | Supervisor reviews. |
| S2 | Review docs | [ ] | Supervisor reviews. |
"""

TESTS = "def test_one():\n    assert True\n\n\ndef test_two():\n    assert True\n\n\ndef test_three():\n    assert True\n"

LEDGER = f"""# Fix Plan

## Attempts History

### 2026-11-01T00:00:00Z — {INITIATIVE} R1 (attempt #1)
Planning: initiative opened.
"""

# What the supervisor's guard lets an agent leave untracked (the real list is longer).
WHITELIST = ("input.md", "docs/*.md", "plans/*.md", "plans/**/*.md", "sync/state.json")
AUTO_COMMIT_SKIP = (".xml",)


def ledger(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--root", str(ws)])
    assert result.exit_code == 0, (args, result.output)
    return result.output


def git_run(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True)


class Machine:
    def __init__(self, root: Path, actor: str, pull_mode: str):
        self.root, self.actor, self.pull_mode = root, actor, pull_mode
        self.guard_failures: list[str] = []

    def pull(self) -> None:
        """The orchestrator's safe_pull: fetch, then rebase (or merge) with autostash."""
        fetched = git_run(self.root, "fetch", "-q", "origin", "main")
        assert fetched.returncode == 0, fetched.stderr
        if self.pull_mode == "rebase":
            pulled = git_run(self.root, "-c", "rebase.autoStash=true", "rebase", "origin/main")
        else:
            pulled = git_run(self.root, "-c", "merge.autoStash=true", "merge", "--no-edit", "origin/main")
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
        assert not git_run(self.root, "diff", "--name-only", "--diff-filter=U").stdout, "unmerged paths after the pull"

    def state(self) -> dict:
        return json.loads((self.root / "sync/state.json").read_text())

    def auto_commit(self, message: str) -> None:
        """Stage reports by extension, skipping .xml (the real autocommit's rule), and commit."""
        lines = git_run(self.root, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
        paths = [line[3:] for line in lines if not line[3:].endswith(AUTO_COMMIT_SKIP)]
        if paths:
            assert git_run(self.root, "add", "--", *paths).returncode == 0
            git_run(self.root, "commit", "-qm", message)

    def guard(self) -> None:
        """Refuse to hand over while an untracked file outside the whitelist is left."""
        untracked = [line[3:] for line in git_run(self.root, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
                     if line.startswith("??")]
        self.guard_failures += [p for p in untracked if not any(fnmatch.fnmatch(p, pattern) for pattern in WHITELIST)]

    def hand_over(self, turn: int, next_actor: str) -> None:
        (self.root / "sync/state.json").write_text(json.dumps({"turn": turn + 1, "expected_actor": next_actor}) + "\n")
        git_run(self.root, "add", "sync/state.json")
        assert git_run(self.root, "commit", "-qm", f"sync: turn {turn + 1} -> {next_actor}").returncode == 0
        pushed = git_run(self.root, "push", "-q", "origin", "HEAD:main")
        assert pushed.returncode == 0, pushed.stderr


def make_origin(tmp_path: Path) -> Path:
    seed = tmp_path / "seed"
    (seed / f"plans/active/{INITIATIVE}").mkdir(parents=True)
    (seed / f"plans/active/{INITIATIVE}/implementation.md").write_text(PLAN)
    (seed / "docs").mkdir()
    (seed / "docs/fix_plan.md").write_text(LEDGER)
    (seed / "docs/findings.md").write_text("# Findings\n")
    (seed / "tests").mkdir()
    (seed / "tests/test_loop.py").write_text(TESTS)
    (seed / "sync").mkdir()
    (seed / "sync/state.json").write_text(json.dumps({"turn": 0, "expected_actor": "galph"}) + "\n")
    (seed / ".gitignore").write_text("*.log\n__pycache__/\n.pytest_cache/\n")
    git(seed, "init", "-q", "-b", "main")
    ledger(seed, "init", "--git")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "seed")
    git(tmp_path, "clone", "-q", "--bare", str(seed), "origin.git")
    return tmp_path / "origin.git"


def clone(tmp_path: Path, origin: Path, name: str, actor: str, pull_mode: str) -> Machine:
    git(tmp_path, "clone", "-q", str(origin), name)
    root = tmp_path / name
    ledger(root, "init", "--git")  # git config is per clone: registers the merge driver here
    assert git_run(root, "status", "--porcelain").stdout == ""
    return Machine(root, actor, pull_mode)


def play(tmp_path: Path, pull_mode: str, turns: int = TURNS) -> tuple[Machine, Machine, list[str], list[str]]:
    origin = make_origin(tmp_path)
    machines = {"galph": clone(tmp_path, origin, "supervisor", "galph", pull_mode),
                "ralph": clone(tmp_path, origin, "engineer", "ralph", pull_mode)}
    expected_entries: list[str] = []  # one unique token per attempt written
    run_dirs: list[str] = []
    for turn in range(turns):
        actor = "galph" if turn % 2 == 0 else "ralph"
        me, other = machines[actor], machines["ralph" if actor == "galph" else "galph"]
        me.pull()
        assert me.state() == {"turn": turn, "expected_actor": actor}
        row = RUN_ROWS[(turn // 2) % len(RUN_ROWS)]
        token = f"t{turn:02d}-{actor}"
        if actor == "galph":
            ledger(me.root, "attempt", "add", INITIATIVE, "--row", row, "--summary", f"{token} review of {row}")
            ledger(me.root, "mark", INITIATIVE, MARK_ROWS[turn // 2 % 2], "partial", "--note", f"{token} reviewing")
            (me.root / "input.md").write_text(f"Summary: run {row}\nMode: TDD\nFocus: {INITIATIVE}.{row}\n")
        else:
            out = json.loads(CliRunner().invoke(main, ["do", INITIATIVE, row, "--commit", "--json", "--root", str(me.root)]).stdout)
            assert out["outcome"] == "passed", out
            run_dirs.append(out["report_dir"])
            expected_entries.append(out["report_dir"])
            summary = me.root / out["report_dir"] / "summary.md"  # the prompt: prepend a Turn Summary
            summary.write_text(f"### Turn Summary\n{token}: {row} green.\n\n" + summary.read_text())
            ledger(me.root, "attempt", "add", INITIATIVE, "--row", row, "--summary", f"{token} after run of {row}")
        if actor == "galph":
            expected_entries.append(f"{token} review of {row}")
        else:
            expected_entries.append(f"{token} after run of {row}")
        # The idle machine adds to the same row in the same moment, unpushed: committed on
        # even turns, left in the work tree on odd ones (the next pull's autostash takes it).
        idle = f"t{turn:02d}-{other.actor}-idle"
        ledger(other.root, "attempt", "add", INITIATIVE, "--row", row, "--summary", f"{idle} same-moment note on {row}")
        expected_entries.append(f"{idle} same-moment note on {row}")
        if turn % 2 == 0:
            git(other.root, "commit", "-qam", f"{other.actor}: idle note")
        me.auto_commit(f"{actor}: turn {turn} reports")
        me.guard()
        me.hand_over(turn, "ralph" if actor == "galph" else "galph")
    # Both catch up; the one holding local work pushes it; the other pulls again.
    for machine in machines.values():
        machine.pull()
        machine.auto_commit(f"{machine.actor}: final")
        assert git_run(machine.root, "push", "-q", "origin", "HEAD:main").returncode == 0
    for machine in machines.values():
        machine.pull()
    return machines["galph"], machines["ralph"], expected_entries, run_dirs


def check_outcome(a: Machine, b: Machine, expected_entries: list[str], run_dirs: list[str]) -> None:
    assert a.guard_failures == [] and b.guard_failures == []
    ledger_a = (a.root / "docs/fix_plan.md").read_text()
    assert ledger_a == (b.root / "docs/fix_plan.md").read_text()
    plan_path = f"plans/active/{INITIATIVE}/implementation.md"
    assert (a.root / plan_path).read_text() == (b.root / plan_path).read_text()
    for machine in (a, b):
        tracked = git_run(machine.root, "ls-files").stdout.split()
        for name in tracked:
            path = machine.root / name
            if path.suffix in (".md", ".json"):
                text = path.read_text()
                assert not re.search(r"^(<{7}|>{7}|={7})( |$)", text, re.M), f"conflict markers in {name}"
    entries = parse_ledger(SourceText(None, ledger_a, "")).history.entries
    for token in expected_entries:
        holding = [e for e in entries if token in e.text]
        assert len(holding) == 1, f"{token}: in {len(holding)} entries (lost or duplicated)"
    for entry in entries:
        inside = [t for t in expected_entries if t in entry.text]
        assert len(inside) <= 1 or all(t in run_dirs for t in inside[1:]), f"fused entry: {entry.text[:200]}"
    assert len(entries) == 1 + len(expected_entries)
    numbers = [int(GLOBAL_NUMBER.search(e.label).group(1)) for e in entries]
    assert len(numbers) == len(set(numbers)), "duplicate attempt numbers"
    for machine in (a, b):
        result = CliRunner().invoke(main, ["audit", INITIATIVE, "--json", "--root", str(machine.root)])
        report = json.loads(result.stdout)
        rows = {r["row"]: r for i in report["initiatives"] for r in i["rows"]}
        for row in RUN_ROWS:
            assert rows[row]["audit"] == "verified", (machine.actor, row, rows[row]["reasons"])
        assert result.exit_code == 0, result.stdout


def test_two_machines_twenty_turns_pulling_with_rebase_autostash(tmp_path):
    a, b, expected, run_dirs = play(tmp_path, "rebase")
    check_outcome(a, b, expected, run_dirs)


def test_two_machines_pulling_with_merge_autostash(tmp_path):
    # Half the turns: the rebase scenario above is the real loop's; this one checks the
    # other orientation of the merge driver's sides and keeps the file's runtime modest.
    a, b, expected, run_dirs = play(tmp_path, "merge", turns=TURNS // 2)
    check_outcome(a, b, expected, run_dirs)
