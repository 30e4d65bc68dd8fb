"""`init`, `new` and `do --commit` through the real CLI on temp git repositories."""

import json
import shlex
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.running.git_commit import GitRefused, commit_paths, ensure_committable
from tests.conftest import git, snapshot
from tests.integration.workspace_factory import make_workspace


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_init_scaffolds_an_empty_folder_and_is_idempotent(tmp_path):
    result = run("init", "--git", "--root", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for name in ("plans/active/", "docs/fix_plan.md", "docs/findings.md", "templates/input.md.j2", "templates/plan.md.j2", ".gitattributes", ".gitignore"):
        assert name in data["created"]
    attributes = (tmp_path / ".gitattributes").read_text().splitlines()
    assert "docs/fix_plan.md merge=ledger" in attributes and "plans/**/*.md merge=ledger" in attributes
    assert ".ledger.lock" in (tmp_path / ".gitignore").read_text().splitlines()
    assert git(tmp_path, "config", "--get", "merge.ledger.driver").strip() == f"{shlex.quote(sys.executable)} -m ledger merge-driver %O %A %B %P"
    assert git(tmp_path, "config", "--get", "merge.ledger.name").strip()
    before = snapshot(tmp_path)
    again = json.loads(run("init", "--git", "--root", str(tmp_path), "--json").output)
    assert again["created"] == [] and again["updated"] == []
    assert snapshot(tmp_path) == before
    assert run("findings", "--root", str(tmp_path)).exit_code == 0
    assert run("status", "--root", str(tmp_path)).exit_code == 0


def test_init_in_existing_repo_keeps_files_and_appends_missing_lines(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws / ".gitattributes").write_text("*.png binary")  # no trailing newline
    ledger_before = (ws / "docs/fix_plan.md").read_bytes()
    result = run("init", "--git", "--root", str(ws), "--json")
    data = json.loads(result.output)
    assert "docs/fix_plan.md" in data["kept"] and "docs/findings.md" in data["kept"]
    assert (ws / "docs/fix_plan.md").read_bytes() == ledger_before
    assert (ws / ".gitattributes").read_text().startswith("*.png binary\ndocs/fix_plan.md merge=ledger\n")
    gitignore = (ws / ".gitignore").read_text()
    assert gitignore.count(".ledger.lock") == 1  # already listed by the factory


def test_new_creates_plan_and_ledger_item(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    result = run("new", "NEW-002", "--title", "Second  initiative", "--root", str(ws))
    assert result.exit_code == 0, result.output
    plan = (ws / "plans/active/NEW-002/implementation.md").read_text()
    assert plan.startswith("# NEW-002 — Second initiative\n")
    ledger = (ws / "docs/fix_plan.md").read_text()
    assert ledger.endswith("  - all green\n\n## [NEW-002] Second initiative\n- Status: pending\n"
                           "- Working Plan: `plans/active/NEW-002/implementation.md`\n"
                           f"- Created: {ledger.split('- Created: ')[1][:10]}\n- Attempts History:\n")
    status = json.loads(run("status", "NEW-002", "--json", "--root", str(ws)).output)
    assert status["initiatives"][0]["counts"]["rows"] == 1
    added = json.loads(run("attempt", "add", "NEW-002", "--summary", "first", "--json", "--root", str(ws)).output)
    assert added["attempt"] == 1
    assert "- Attempts History:\n  * [" in (ws / "docs/fix_plan.md").read_text()
    assert run("findings", "--root", str(ws)).exit_code == 0
    again = run("new", "NEW-002", "--title", "x", "--root", str(ws))
    assert again.exit_code == 2 and "already has a plan folder" in again.output


def test_new_rejects_bad_id(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    result = run("new", "../evil", "--title", "x", "--root", str(ws))
    assert result.exit_code == 2 and "invalid initiative id" in result.output


# ------------------------------------------------------------------ commits


def test_commit_paths_commits_only_the_given_paths(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws / "tests/test_demo.py").write_text("# staged by the user\n")
    git(ws, "add", "tests/test_demo.py")
    (ws / "scratch.txt").write_text("untracked\n")
    report = ws / "plans/active/DEMO-001/reports/2026-01-01T000000Z/phase_a"
    report.mkdir(parents=True)
    (report / "summary.md").write_text("# s\n")
    plan = ws / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text().replace("| A1 | Passing selector | [ ]", "| A1 | Passing selector | [x]"))
    guard = ensure_committable(ws, [plan, ws / "docs/fix_plan.md"])
    assert guard.dirty_before == ["plans/active/DEMO-001/implementation.md"]
    data = commit_paths(guard, [report, plan, ws / "docs/fix_plan.md"], "DEMO-001 A1: passed (tests: pytest x)")
    assert data["files"] == ["plans/active/DEMO-001/implementation.md", "plans/active/DEMO-001/reports/2026-01-01T000000Z/phase_a/summary.md"]
    assert git(ws, "log", "-1", "--format=%s").strip() == "DEMO-001 A1: passed (tests: pytest x)"
    status = git(ws, "status", "--porcelain").splitlines()
    assert "M  tests/test_demo.py" in status and "?? scratch.txt" in status  # still staged, still untracked


def test_commit_refuses_detached_head(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    git(ws, "checkout", "-q", "--detach")
    with pytest.raises(GitRefused, match="HEAD is detached"):
        ensure_committable(ws, [])


def test_commit_refuses_outside_git(tmp_path):
    ws = make_workspace(tmp_path / "ws", git_repo=False)
    with pytest.raises(GitRefused, match="not inside a git repository"):
        ensure_committable(ws, [])


def _conflicted(ws):
    git(ws, "checkout", "-q", "-b", "other")
    (ws / "tests/test_demo.py").write_text("other\n")
    git(ws, "commit", "-qam", "other")
    git(ws, "checkout", "-q", "main")
    (ws / "tests/test_demo.py").write_text("mine\n")
    git(ws, "commit", "-qam", "mine")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "merge", "-q", "other"], cwd=ws, capture_output=True)


def test_do_commit_refuses_conflicted_tree_before_running_tests(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    _conflicted(ws)
    before = snapshot(ws)
    result = run("do", "DEMO-001", "A1", "--commit", "--root", str(ws))
    assert result.exit_code == 2
    assert "--commit refused: unmerged paths tests/test_demo.py" in result.output
    assert "Traceback" not in result.output
    after = snapshot(ws)
    after.pop(".ledger.lock", None)
    assert after == before  # no report folder, no row flip, no attempt


def test_do_commit_refuses_detached_head_before_running_tests(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    git(ws, "checkout", "-q", "--detach")
    result = run("do", "DEMO-001", "A1", "--commit", "--json", "--root", str(ws))
    assert result.exit_code == 2
    assert "HEAD is detached" in json.loads(result.stdout)["error"]
    assert not (ws / "plans/active/DEMO-001/reports").exists()


def test_do_commit_end_to_end(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    git(ws, "config", "user.name", "t")
    git(ws, "config", "user.email", "t@example.invalid")
    (ws / "unrelated.txt").write_text("not ours\n")
    result = run("do", "DEMO-001", "A1", "--commit", "--json", "--root", str(ws))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{"):])
    commit = data["commit"]
    assert commit["message"] == "DEMO-001 A1: passed (tests: pytest tests/test_demo.py::test_ok -q)"
    assert git(ws, "log", "-1", "--format=%s").strip() == commit["message"]
    files = git(ws, "show", "--name-only", "--format=", "HEAD").split()
    assert "docs/fix_plan.md" in files and "plans/active/DEMO-001/implementation.md" in files
    assert all(f.startswith(data["report_dir"]) for f in files if f not in ("docs/fix_plan.md", "plans/active/DEMO-001/implementation.md"))
    assert git(ws, "status", "--porcelain").strip() == "?? unrelated.txt"


def test_do_commit_wiring_commits_what_the_run_wrote(tmp_path, monkeypatch):
    """`run_do` with --commit around a stand-in for the test run (no pytest needed)."""
    import ledger.running.do as do_module
    from ledger.running.do import DoResult

    ws = make_workspace(tmp_path / "ws")
    git(ws, "config", "user.name", "t")
    git(ws, "config", "user.email", "t@example.invalid")
    (ws / "unrelated.txt").write_text("not ours\n")

    def fake_execute(workspace, options, plan, echo, record_lock, after_record):
        folder = ws / "plans/active/DEMO-001/reports/2026-01-01T000000Z/phase_a_assessment"
        folder.mkdir(parents=True)
        (folder / "summary.md").write_text("# passed\n")
        plan_file = ws / "plans/active/DEMO-001/implementation.md"
        plan_file.write_text(plan_file.read_text().replace("| A1 | Passing selector | [ ]", "| A1 | Passing selector | [x]"))
        ledger_file = ws / "docs/fix_plan.md"
        ledger_file.write_text(ledger_file.read_text().replace("prose.\n", "prose.\n  * [2026-01-01] Attempt #2 — A1 passed.\n"))
        result = DoResult("DEMO-001", "A1", "pytest tests/test_demo.py::test_ok -q", "passed", None, None, 0.1,
                          "plans/active/DEMO-001/reports/2026-01-01T000000Z/phase_a_assessment/", "open", "done", 2, 0)
        with record_lock():  # the commit is made under the record's lock, as _execute does
            after_record(result)
        return result

    monkeypatch.setattr(do_module, "_execute", fake_execute)
    result = run("do", "DEMO-001", "A1", "--commit", "--json", "--root", str(ws))
    assert result.exit_code == 0, result.output
    commit = json.loads(result.stdout)["commit"]
    assert commit["message"] == "DEMO-001 A1: passed (tests: pytest tests/test_demo.py::test_ok -q)"
    assert commit["files"] == [
        "docs/fix_plan.md",
        "plans/active/DEMO-001/implementation.md",
        "plans/active/DEMO-001/reports/2026-01-01T000000Z/phase_a_assessment/summary.md",
    ]
    assert git(ws, "status", "--porcelain").strip() == "?? unrelated.txt"
    assert git(ws, "log", "--format=%s").splitlines()[0] == commit["message"]


@pytest.mark.parametrize("blocker, exit_code, text", [("hook", 2, "git failed"), ("index.lock", 4, "index.lock")])
def test_do_commit_failure_after_the_run_says_what_was_recorded(tmp_path, monkeypatch, blocker, exit_code, text):
    import ledger.running.do as do_module
    from ledger.running.do import DoResult

    ws = make_workspace(tmp_path / "ws")

    def fake_execute(workspace, options, plan, echo, record_lock, after_record):
        folder = ws / "plans/active/DEMO-001/reports/2026-01-01T000000Z/p"
        folder.mkdir(parents=True)
        (folder / "summary.md").write_text("# failed\n")
        if blocker == "hook":
            hook = ws / ".git/hooks/pre-commit"
            hook.write_text("#!/bin/sh\necho refused by hook >&2\nexit 1\n")
            hook.chmod(0o755)
        else:
            (ws / ".git/index.lock").write_text("")
        result = DoResult("DEMO-001", "A2", "pytest x", "failed", "1 failed", None, 0.1,
                          "plans/active/DEMO-001/reports/2026-01-01T000000Z/p/", "open", "partial", 2, 1)
        with record_lock():
            after_record(result)
        return result

    monkeypatch.setattr(do_module, "_execute", fake_execute)
    result = run("do", "DEMO-001", "A2", "--commit", "--root", str(ws))
    assert result.exit_code == exit_code
    assert text in result.output
    assert "the run itself finished: failed, evidence in plans/active/DEMO-001/reports/2026-01-01T000000Z/p/, attempt #2 recorded" in result.output
