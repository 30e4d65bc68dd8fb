"""Nothing ledger reads plan text from or writes to may lie outside the workspace (issue 11):
configured paths, initiative folders, plan files, the ledger, findings, templates and ledger
archives, symlinks followed. And workspace templates render sandboxed.

Each refusal is exit 2 with one `ledger: error:` line naming `[rule: path-confinement]`
(and, for a configured path, the configuration file and key), and the outside folder is
byte-identical afterwards.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reliability.helpers import LEDGER_FILE, PLAN_FILE, assert_clean_error, cli, files, ledger, workspace
from tests.reliability.test_hostile_selectors import tree_state

CUDA = 'env = { CUDA_VISIBLE_DEVICES = "" }\n'


@pytest.fixture
def setup(tmp_path):
    """A workspace and, beside it, `outside/` holding a copy of everything a configured
    path could point at (so a missing file is never why a command stops)."""
    root = workspace(tmp_path)
    outside = tmp_path / "outside"
    (outside / "plans/DEMO-001").mkdir(parents=True)
    shutil.copyfile(root / PLAN_FILE, outside / "plans/DEMO-001/implementation.md")
    shutil.copyfile(root / PLAN_FILE, outside / "implementation.md")
    shutil.copyfile(root / LEDGER_FILE, outside / "fix_plan.md")
    shutil.copyfile(root / LEDGER_FILE, outside / "fix_plan_archive.md")
    shutil.copyfile(root / "docs/findings.md", outside / "findings.md")
    (outside / "templates").mkdir()
    (outside / "templates/mark_note.md.j2").write_text("{{ note }}\n")
    return root, outside


def refused(result, *fragments: str) -> None:
    assert_clean_error(result, 2, "resolves outside the workspace", "[rule: path-confinement]", *fragments)


@pytest.mark.parametrize("setting, args", [
    ('ledger = "../outside/fix_plan.md"', ("attempt", "add", "DEMO-001", "--summary", "s")),
    ('ledger = "../outside/fix_plan.md"', ("do", "DEMO-001", "A1", "--dry-run")),
    ('findings = "../outside/findings.md"', ("findings",)),
    ('findings = "../outside/findings.md"', ("brief", "DEMO-001", "A1")),
    ('templates = "../outside/templates"', ("mark", "DEMO-001", "A2", "partial", "--note", "n")),
    ('plan_roots = ["../outside/plans"]', ("mark", "DEMO-001", "A1", "done")),
    ('plan_roots = ["../outside/plans"]', ("status",)),
    ('report_root = "../outside/{initiative}"', ("do", "DEMO-001", "A1")),
    ('report_root = "../outside/{initiative}"', ("audit",)),
    ('ledger_archives = ["../outside/*.md"]', ("attempt", "add", "DEMO-001", "--summary", "s")),
    ('ledger = "plans/../../outside/fix_plan.md"', ("attempt", "add", "DEMO-001", "--summary", "s")),
])
def test_a_configured_path_outside_the_workspace_is_refused(setup, tmp_path, setting, args):
    root, outside = setup
    (root / "ledger.toml").write_text(f"[tool.ledger]\n{CUDA}{setting}\n")
    before, outside_before = files(root), tree_state(outside)
    refused(cli(root, *args), "ledger.toml", setting.split(" =")[0])
    assert files(root) == before and tree_state(outside) == outside_before


@pytest.mark.parametrize("setting", ['ledger = "/tmp/ledger-abs-fix_plan.md"', 'ledger_archives = ["/tmp/*.md"]'])
def test_an_absolute_configured_path_is_refused(setup, setting):
    root, _ = setup
    (root / "ledger.toml").write_text(f"[tool.ledger]\n{CUDA}{setting}\n")
    result = cli(root, "attempt", "add", "DEMO-001", "--summary", "s")
    assert_clean_error(result, 2, "[rule: path-confinement]", "ledger.toml")
    assert not Path("/tmp/ledger-abs-fix_plan.md").exists()


def test_init_refuses_a_configured_path_outside_before_creating_anything(tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "ledger.toml").write_text('[tool.ledger]\nfindings = "../outside/findings.md"\n')
    refused(cli(root, "init"), "ledger.toml", "findings")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh"]
    assert [p.name for p in root.iterdir()] == ["ledger.toml"]


# ------------------------------------------------------------------ symlinks


def test_a_symlinked_initiative_folder_inside_is_edited_through_to_its_target(tmp_path):
    root = workspace(tmp_path)
    target = root / "plans/archive/DEMO-001"
    target.parent.mkdir(parents=True)
    shutil.move(str(root / "plans/active/DEMO-001"), target)
    (root / "plans/active/DEMO-001").symlink_to(target, target_is_directory=True)
    result = ledger(root, "mark", "DEMO-001", "A1", "done")
    assert result.returncode == 0, result.stderr
    assert (root / "plans/active/DEMO-001").is_symlink()
    assert "| A1 | Passing selector | [x] |" in (target / "implementation.md").read_text()


def test_a_symlinked_plan_file_inside_is_edited_through_and_stays_a_link(tmp_path):
    root = workspace(tmp_path)
    real = root / "docs/plan-of-record.md"
    shutil.move(str(root / PLAN_FILE), real)
    (root / PLAN_FILE).symlink_to(real)
    assert ledger(root, "mark", "DEMO-001", "A1", "done").returncode == 0
    assert (root / PLAN_FILE).is_symlink()
    assert "| A1 | Passing selector | [x] |" in real.read_text()


def test_a_symlinked_ledger_inside_is_edited_through_and_stays_a_link(tmp_path):
    root = workspace(tmp_path)
    real = root / "docs/ledger-real.md"
    shutil.move(str(root / LEDGER_FILE), real)
    (root / LEDGER_FILE).symlink_to(real)
    assert ledger(root, "attempt", "add", "DEMO-001", "--summary", "through the link").returncode == 0
    assert (root / LEDGER_FILE).is_symlink() and "through the link" in real.read_text()


@pytest.mark.parametrize("link, target, args", [
    ("plans/active/DEMO-001", "plans/DEMO-001", ("mark", "DEMO-001", "A1", "done")),
    ("plans/active/DEMO-001", "plans/DEMO-001", ("attempt", "add", "DEMO-001", "--row", "A1", "--summary", "s")),
    ("plans/active/DEMO-001", "plans/DEMO-001", ("do", "DEMO-001", "A1", "--dry-run")),
    (PLAN_FILE, "implementation.md", ("mark", "DEMO-001", "A1", "done")),
    (PLAN_FILE, "implementation.md", ("status", "DEMO-001")),
    (LEDGER_FILE, "fix_plan.md", ("attempt", "add", "DEMO-001", "--summary", "s")),
    (LEDGER_FILE, "fix_plan.md", ("do", "DEMO-001", "A1", "--dry-run")),
    ("docs", ".", ("attempt", "add", "DEMO-001", "--summary", "s")),
    ("docs/findings.md", "findings.md", ("findings",)),
    ("templates", "templates", ("mark", "DEMO-001", "A2", "partial", "--note", "n")),
])
def test_a_symlink_pointing_outside_is_refused(setup, link, target, args):
    root, outside = setup
    path = root / link
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    path.symlink_to(outside / target, target_is_directory=(outside / target).is_dir())
    before, outside_before = files(root), tree_state(outside)
    refused(cli(root, *args))
    assert files(root) == before and tree_state(outside) == outside_before


# ------------------------------------------------------------------ sandboxed templates

ESCAPES = [
    "{{ cycler.__init__.__globals__.os.system('touch MARK') }}",
    "{{ joiner.__init__.__globals__.os.system('touch MARK') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].system('touch MARK') }}",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_a_workspace_template_cannot_reach_python_internals(tmp_path, payload):
    root = workspace(tmp_path)
    (root / "templates/html").mkdir(parents=True)
    for name in ("mark_note.md.j2", "input.md.j2", "html/index.html.j2"):
        (root / "templates" / name).write_text(f"note\n{payload}\n")
    marker = root / "MARK"
    before = files(root)
    for args in (("mark", "DEMO-001", "A2", "partial", "--note", "n"), ("brief", "DEMO-001", "A1"),
                 ("html", "-o", str(tmp_path / "site"))):
        result = ledger(root, *args)
        assert_clean_error(result, 2, "template", ":2:")
        assert not marker.exists()
    assert files(root) == before


def test_a_sandboxed_template_error_during_do_is_one_line_and_runs_nothing(tmp_path):
    root = workspace(tmp_path)
    (root / "templates").mkdir()
    (root / "templates/summary.md.j2").write_text("{{ cycler.__init__.__globals__.os.system('touch MARK') }}\n")
    result = ledger(root, "do", "DEMO-001", "A1")
    assert_clean_error(result, 2, "template summary.md.j2")
    assert not (root / "MARK").exists()
