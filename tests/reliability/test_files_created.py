"""What ledger creates and how: modes that honour the umask, line endings kept as the file
has them (CR-only included), and no ledger item invented for a mistyped initiative (issue 11)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from tests.conftest import LEDGER_BIN
from tests.reliability.helpers import LEDGER_FILE, PLAN_FILE, assert_clean_error, cli, files
from tests.integration.workspace_factory import make_workspace


def ledger_with_umask(root: Path, umask: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LEDGER_BIN), *args, "--root", str(root)],
        capture_output=True, text=True, timeout=120, cwd=root, preexec_fn=lambda: os.umask(umask),
    )


def modes(root: Path) -> dict[str, int]:
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*dirs, *names]:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = stat.S_IMODE(path.lstat().st_mode)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_everything_ledger_creates_honours_the_umask(tmp_path, umask):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    # The factory's files get the modes the umask gives, so every mode below is the umask's.
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)
    commands = [
        ("init",),
        ("new", "NEW-001", "--title", "A new initiative"),
        ("mark", "DEMO-001", "A2", "partial", "--note", "looked"),
        ("attempt", "add", "DEMO-001", "--summary", "manual"),
        ("do", "DEMO-001", "A1"),
        ("html", "--out", str(root / "site")),
    ]
    for args in commands:
        result = ledger_with_umask(root, umask, *args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    found = modes(root)
    # The run's report folder, its manifest and summary, the new plan, the site: all there.
    assert any(name.endswith("/manifest.json") for name in found)
    assert "plans/active/NEW-001/implementation.md" in found
    wrong = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != ((0o777 if (root / name).is_dir() else 0o666) & ~umask)
    }
    assert not wrong, wrong


def _cr_only(text: bytes) -> bytes:
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def test_a_cr_only_plan_and_ledger_keep_cr_through_every_edit(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    for rel in (PLAN_FILE, LEDGER_FILE):
        (root / rel).write_bytes(_cr_only((root / rel).read_bytes()))
    plan_before = (root / PLAN_FILE).read_bytes()
    assert cli(root, "mark", "DEMO-001", "A2", "partial", "--note", "looked at it").returncode == 0
    assert cli(root, "attempt", "add", "DEMO-001", "--summary", "first\nsecond line").returncode == 0
    assert cli(root, "attempt", "add", "DEMO-001", "--summary", "again", "--row", "A2").returncode == 0
    assert cli(root, "new", "NEW-001", "--title", "Another").returncode == 0
    plan, ledger_bytes = (root / PLAN_FILE).read_bytes(), (root / LEDGER_FILE).read_bytes()
    assert b"\n" not in plan and b"\n" not in ledger_bytes
    # Same number of lines in the plan: one row changed in place.
    assert plan.count(b"\r") == plan_before.count(b"\r")
    rows = {r.id: r for r in parse_plan(SourceText.read(root / PLAN_FILE)).rows}
    assert rows["A2"].state_token == "[P]" and "looked at it" in rows["A2"].guidance
    doc = parse_ledger(SourceText.read(root / LEDGER_FILE))
    attempts = doc.attempts_for("DEMO-001")
    assert [a.number for a in attempts][-2:] == [2, 3]
    assert "NEW-001" in doc.items


def test_attempt_add_on_an_unknown_initiative_is_refused_unless_create(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    before = files(root)
    result = cli(root, "attempt", "add", "DEMO-01", "--summary", "typo")
    assert_clean_error(result, 2, "unknown initiative 'DEMO-01'", "--create")
    assert files(root) == before
    result = cli(root, "attempt", "add", "OTHER-001", "--summary", "on purpose", "--create", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["attempt"] == 1
    assert "OTHER-001" in parse_ledger(SourceText.read(root / LEDGER_FILE)).items
    # Known from now on (it has a ledger item), without --create.
    assert cli(root, "attempt", "add", "OTHER-001", "--summary", "again").returncode == 0
    # A plan folder with no ledger item yet is known too: its item is started.
    (root / "plans/active/THIRD-001").mkdir()
    (root / "plans/active/THIRD-001/implementation.md").write_text("# THIRD-001 — t\n")
    assert cli(root, "attempt", "add", "THIRD-001", "--summary", "first").returncode == 0
