"""What every command leaves in a git workspace: only the files it is meant to write.

A supervisor loop refuses to hand over while an untracked file outside its
whitelist is left (`git status --porcelain`); ledger's lock, its caches and
anything else it leaves behind must not trip that guard.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import git
from tests.integration.workspace_factory import make_workspace

PLAN = "plans/active/DEMO-001/implementation.md"
LEDGER = "docs/fix_plan.md"


def run(ws, *args):
    return CliRunner().invoke(main, [*args, "--root", str(ws)])


def porcelain(ws) -> set[str]:
    return set(git(ws, "status", "--porcelain", "--untracked-files=all").splitlines())


@pytest.fixture(scope="module")
def committed_template(tmp_path_factory):
    ws = make_workspace(tmp_path_factory.mktemp("template") / "ws")
    (ws / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n", encoding="utf-8")
    git(ws, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qam", "no lock in .gitignore")
    with pytest.MonkeyPatch.context() as patch:  # the autouse identity fixture is function-scoped
        for role in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{role}_NAME", "ledger tests")
            patch.setenv(f"GIT_{role}_EMAIL", "tests@example.invalid")
        result = run(ws, "do", "DEMO-001", "A1", "--commit", "--json")
    assert result.exit_code == 0, result.output
    assert porcelain(ws) == set()
    return ws


@pytest.fixture
def committed_ws(committed_template, tmp_path):
    """A workspace with one committed `ledger do` run, a clean tree, and a .gitignore that
    does not list `.ledger.lock` (only the test process's caches): a copy per test."""
    ws = tmp_path / "ws"
    shutil.copytree(committed_template, ws, symlinks=True)
    return ws


def _report_files(ws) -> set[str]:
    return {p.relative_to(ws).as_posix() for p in (ws / "plans/active/DEMO-001/reports").rglob("*") if p.is_file()}


# (arguments, the porcelain lines the command is meant to leave)
READ_ONLY = [
    ("status",),
    ("status", "DEMO-001"),
    ("show", "DEMO-001", "A1"),
    ("audit", "DEMO-001"),
    ("selectors",),
    ("findings",),
    ("profile", "DEMO-001", "A1", "--no-write"),
    ("brief", "DEMO-001", "A2"),
    ("next", "--json"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a))
def test_reading_commands_leave_the_tree_clean(committed_ws, args):
    result = run(committed_ws, *args)
    assert result.exit_code in (0, 1), result.output
    assert porcelain(committed_ws) == set()


def test_mark_changes_only_the_plan(committed_ws):
    assert run(committed_ws, "mark", "DEMO-001", "A2", "partial", "--note", "blocked").exit_code == 0
    assert porcelain(committed_ws) == {f" M {PLAN}"}


def test_attempt_add_changes_only_the_ledger(committed_ws):
    assert run(committed_ws, "attempt", "add", "DEMO-001", "--summary", "review", "--row", "A2").exit_code == 0
    assert porcelain(committed_ws) == {f" M {LEDGER}"}


def test_item_status_changes_only_the_ledger(committed_ws):
    assert run(committed_ws, "item", "DEMO-001", "--status", "blocked").exit_code == 0
    assert porcelain(committed_ws) == {f" M {LEDGER}"}


def test_do_writes_its_report_folder_the_plan_and_the_ledger(committed_ws):
    before = _report_files(committed_ws)
    result = run(committed_ws, "do", "DEMO-001", "A2", "--json")
    assert result.exit_code == 1, result.output
    new = _report_files(committed_ws) - before
    assert new and all(name.startswith(json.loads(result.stdout)["report_dir"]) for name in new)
    assert porcelain(committed_ws) == {f" M {PLAN}", f" M {LEDGER}", *(f"?? {name}" for name in new)}


def test_do_commit_leaves_the_tree_clean(committed_ws):
    result = run(committed_ws, "do", "DEMO-001", "A2", "--commit", "--json")
    assert result.exit_code == 1, result.output
    assert porcelain(committed_ws) == set()


def test_profile_writes_only_into_the_run_folder(committed_ws):
    (folder,) = {p.parent for p in (committed_ws / "plans/active/DEMO-001/reports").rglob("manifest.json")}
    assert run(committed_ws, "profile", "DEMO-001", "A1").exit_code == 0
    relative = folder.relative_to(committed_ws).as_posix()
    assert porcelain(committed_ws) == {f" M {relative}/manifest.json", f"?? {relative}/runtime_profile.md"}


def test_brief_writes_only_the_directive(committed_ws):
    assert run(committed_ws, "brief", "DEMO-001", "A2", "-o", str(committed_ws / "input.md")).exit_code == 0
    assert porcelain(committed_ws) == {"?? input.md"}
    assert run(committed_ws, "check-input", str(committed_ws / "input.md"), "--no-collect").exit_code in (0, 1)
    assert porcelain(committed_ws) == {"?? input.md"}


def test_new_writes_the_plan_and_the_ledger_item(committed_ws):
    assert run(committed_ws, "new", "DOCS-002", "--title", "Docs").exit_code == 0
    assert porcelain(committed_ws) == {f" M {LEDGER}", "?? plans/active/DOCS-002/implementation.md"}


def test_html_writes_only_its_site_folder(committed_ws):
    assert run(committed_ws, "html", "-o", str(committed_ws / "site")).exit_code == 0
    lines = porcelain(committed_ws)
    assert lines and all(line.startswith("?? site/") for line in lines)


def test_init_git_writes_its_scaffold_and_then_html_leaves_nothing_untracked(committed_ws):
    assert run(committed_ws, "init", "--git").exit_code == 0
    lines = porcelain(committed_ws)
    assert " M .gitignore" in lines and "?? .gitattributes" in lines
    assert all(line in (" M .gitignore", "?? .gitattributes") or line.startswith("?? templates/") for line in lines), lines
    git(committed_ws, "add", "-A")
    git(committed_ws, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init --git")
    # The site is generated: init's .gitignore keeps it out of git status (a handover guard).
    assert run(committed_ws, "html").exit_code == 0
    assert (committed_ws / "site/index.html").is_file() and porcelain(committed_ws) == set()
    # And ledger leaves nothing of its own in the tree on any later command.
    assert run(committed_ws, "audit").exit_code in (0, 1) and porcelain(committed_ws) == set()


def test_the_lock_lives_in_the_git_directory(committed_ws):
    from ledger.editing.locking import lock_path

    assert lock_path(committed_ws) == (committed_ws / ".git" / "ledger.lock").resolve()
    assert not (committed_ws / ".ledger.lock").exists()


def test_the_lock_of_a_worktree_lives_in_its_own_git_directory(committed_ws, tmp_path):
    from ledger.editing.locking import lock_path

    git(committed_ws, "worktree", "add", "-q", str(tmp_path / "wt2"), "-b", "wt2")
    path = lock_path(tmp_path / "wt2")
    assert path.name == "ledger.lock" and tmp_path / "wt2" not in path.parents
    assert path.parent == (committed_ws / ".git" / "worktrees" / "wt2").resolve()
    assert run(tmp_path / "wt2", "mark", "DEMO-001", "A2", "partial").exit_code == 0
    assert porcelain(tmp_path / "wt2") == {f" M {PLAN}"}


def test_outside_git_the_lock_stays_at_the_workspace_root(tmp_path):
    from ledger.editing.locking import lock_path

    ws = make_workspace(tmp_path / "ws", git_repo=False)
    assert lock_path(ws) == ws / ".ledger.lock"


def test_do_commit_force_adds_the_evidence_gitignore_ignores(tmp_path):
    """A real branch ignores `*.log`, the real main ignores the whole report tree: the run's
    evidence is committed anyway, file by file from its manifest, and ledger says so."""
    ws = make_workspace(tmp_path / "ws")
    (ws / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n*.log\nplans/**/reports/**\n", encoding="utf-8")
    git(ws, "commit", "-qam", "ignore logs and reports")
    result = run(ws, "do", "DEMO-001", "A1", "--commit")
    assert result.exit_code == 0, result.output
    committed = set(git(ws, "show", "--name-only", "--format=", "HEAD").split())
    folder = next(line.split("evidence: ", 1)[1].strip() for line in result.output.splitlines() if "[ledger] evidence: " in line)
    manifest = json.loads((ws / folder / "manifest.json").read_text())
    evidence = {*manifest["files"], *manifest.get("regions", {})}
    assert committed == {PLAN, LEDGER, folder + "manifest.json", *(folder + name for name in evidence)}
    assert folder + "pytest.log" in committed
    assert "force-added" in result.output and folder + "pytest.log" in result.output
    assert porcelain(ws) == set()


def test_do_commit_leaves_a_stray_file_in_the_report_folder_alone(tmp_path, monkeypatch):
    """Exactly the manifest's files: something else dropped into the folder is not evidence."""
    from ledger.running import git_commit as gitops

    ws = make_workspace(tmp_path / "ws")
    folder = ws / "plans/active/DEMO-001/reports/2026-01-01T000000Z/p"
    folder.mkdir(parents=True)
    (folder / "pytest.log").write_text("log\n")
    (folder / "scratch.txt").write_text("not evidence\n")
    (folder / "manifest.json").write_text(json.dumps({"complete": True, "files": {"pytest.log": "0" * 64}}))
    assert [p.name for p in gitops.evidence_files(folder)] == ["manifest.json", "pytest.log"]


# ------------------------------------------------------------------ summary.md and missing files


def _run_folder(ws) -> "Path":
    (folder,) = {p.parent for p in (ws / "plans/active/DEMO-001/reports").rglob("manifest.json")}
    return folder


def _audit_row(ws, row="A1"):
    result = run(ws, "audit", "DEMO-001", "--json")
    data = json.loads(result.stdout)
    rows = [r for i in data["initiatives"] for r in i["rows"] if r["row"] == row]
    return result, rows[0]


def test_an_agents_turn_summary_around_ledgers_record_keeps_the_run_verified(committed_ws):
    summary = _run_folder(committed_ws) / "summary.md"
    text = summary.read_text()
    summary.write_text("### Turn Summary\nEngineer: A1 green, moving to A2.\n\n" + text + "\n## Later notes\nreviewed.\n")
    result, row = _audit_row(committed_ws)
    assert row["audit"] == "verified", result.stdout
    manifest = json.loads((_run_folder(committed_ws) / "manifest.json").read_text())
    assert "summary.md" not in manifest["files"] and "summary.md" in manifest["regions"]


@pytest.mark.parametrize("victim, edit", [
    ("summary.md", lambda t: t.replace("PASSED", "PASSED (trust me)", 1)),
    ("pytest.log", lambda t: t + "edited\n"),
    ("junit.xml", lambda t: t.replace("test_ok", "test_other")),
    ("env.json", lambda t: t.replace("{", '{"x": 1, ', 1)),
    ("env_snapshot.txt", lambda t: t + "edited\n"),
])
def test_editing_ledgers_record_or_any_other_evidence_file_is_still_tampering(committed_ws, victim, edit):
    path = _run_folder(committed_ws) / victim
    path.write_text(edit(path.read_text()))
    result, row = _audit_row(committed_ws)
    assert row["audit"] == "tampered", result.stdout
    assert result.exit_code == 1


def test_removing_the_record_markers_is_tampering(committed_ws):
    summary = _run_folder(committed_ws) / "summary.md"
    summary.write_text(summary.read_text().replace("<!-- ledger:record end -->", ""))
    _, row = _audit_row(committed_ws)
    assert row["audit"] == "tampered"
    assert any("ledger:record markers" in reason["message"] for reason in row["reasons"])


def test_evidence_never_committed_is_missing_with_the_fix_not_tampered(tmp_path):
    """The other clone of a run committed without its ignored pytest.log (a plain `git add`)."""
    origin = make_workspace(tmp_path / "a")
    (origin / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n*.log\n", encoding="utf-8")
    git(origin, "commit", "-qam", "ignore logs")
    assert run(origin, "do", "DEMO-001", "A1").exit_code == 0
    git(origin, "add", "-A")  # what a loop's own auto-commit does: the ignored log stays behind
    git(origin, "commit", "-qm", "run")
    git(tmp_path, "clone", "-q", str(origin), "b")
    result, row = _audit_row(tmp_path / "b")
    assert row["audit"] == "missing", result.stdout
    message = " ".join(reason["message"] for reason in row["reasons"])
    assert "files missing on this clone (never committed): pytest.log" in message and "git add -f" in message
    assert result.exit_code == 1
    text = run(tmp_path / "b", "audit", "DEMO-001").output
    assert "missing" in text and "tampered 0" in text
