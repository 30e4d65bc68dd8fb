"""Where the templates come from: the package, unless the workspace overrides them; and
`ledger do` refusing before it runs anything when a template it needs is nowhere."""

from __future__ import annotations

from click.testing import CliRunner

import ledger.render
from ledger.cli import main
from tests.conftest import REPO
from tests.integration.workspace_factory import make_workspace


def test_packaged_templates_are_the_repository_templates():
    packaged = sorted(p.relative_to(ledger.render.PACKAGE_TEMPLATES).as_posix() for p in ledger.render.PACKAGE_TEMPLATES.rglob("*.j2"))
    in_repo = sorted(p.relative_to(REPO / "templates").as_posix() for p in (REPO / "templates").rglob("*.j2"))
    assert packaged == in_repo and "summary.md.j2" in packaged


def test_do_refuses_before_running_when_a_template_is_missing(tmp_path, monkeypatch):
    ws = make_workspace(tmp_path / "ws")
    empty = tmp_path / "no_templates"
    empty.mkdir()
    monkeypatch.setattr(ledger.render, "PACKAGE_TEMPLATES", empty)
    ledger_before = (ws / "docs/fix_plan.md").read_bytes()
    plan_before = (ws / "plans/active/DEMO-001/implementation.md").read_bytes()

    result = CliRunner().invoke(main, ["do", "DEMO-001", "A1", "--root", str(ws)])

    assert result.exit_code == 2, result.output
    assert "summary.md.j2" in result.output and "not found" in result.output
    # No half-written report folder, no test run, nothing edited.
    assert not (ws / "plans/active/DEMO-001/reports").exists()
    assert (ws / "docs/fix_plan.md").read_bytes() == ledger_before
    assert (ws / "plans/active/DEMO-001/implementation.md").read_bytes() == plan_before


def test_a_workspace_template_overrides_the_packaged_one(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws / "templates").mkdir()
    (ws / "templates/manual_attempt.md.j2").write_text("[{{ date }}] Attempt #{{ number }} — OVERRIDDEN {{ summary }}\n")
    result = CliRunner().invoke(main, ["attempt", "add", "DEMO-001", "--summary", "hello", "--root", str(ws)])
    assert result.exit_code == 0, result.output
    assert "OVERRIDDEN hello" in (ws / "docs/fix_plan.md").read_text()
