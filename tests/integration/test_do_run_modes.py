"""`ledger do` writing where the supervisor chose (--at, --report-dir, --from-input on real
directives from the corpus) and its default timeout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CORPUS, LEDGER_BIN
from tests.integration.workspace_factory import make_workspace
from tests.realworld.conftest import copy_real_workspace

REPORTS = "plans/active/DEMO-001/reports"


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def ledger(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LEDGER_BIN), *args, "--root", str(ws)], capture_output=True, text=True, timeout=300)


def test_at_writes_under_the_chosen_timestamp_and_never_reuses_a_folder(ws):
    first = ledger(ws, "do", "DEMO-001", "A1", "--at", "2026-01-23T020500Z", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["report_dir"] == f"{REPORTS}/2026-01-23T020500Z/phase_a_assessment/"
    second = ledger(ws, "do", "DEMO-001", "A1", "--at", "2026-01-23T020500Z", "--json")
    assert json.loads(second.stdout)["report_dir"] == f"{REPORTS}/2026-01-23T020500Z/phase_a_assessment-2/"
    manifest = json.loads((ws / REPORTS / "2026-01-23T020500Z/phase_a_assessment/manifest.json").read_text())
    assert manifest["report_dir_chosen"] == {"by": "--at", "timestamp": "2026-01-23T020500Z"}
    # A folder dated before its run, chosen on purpose, is not a copied folder to the audit.
    audit = ledger(ws, "audit", "DEMO-001", "--json")
    assert "does not match started_at" not in audit.stdout


def test_report_dir_takes_a_timestamp_folder_or_one_with_its_slug(ws):
    result = ledger(ws, "do", "DEMO-001", "A1", "--report-dir", f"{REPORTS}/2026-01-23T020500Z/custom_slug/", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["report_dir"] == f"{REPORTS}/2026-01-23T020500Z/custom_slug/"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--report-dir", "docs/elsewhere/2026-01-23T020500Z/"), "is not under plans/active/DEMO-001/reports/"),
        (("--report-dir", f"{REPORTS}/not-a-time/"), "is not a report timestamp"),
        (("--at", "2099-01-01T000000Z"), "is in the future"),
        (("--at", "2026-01-23T020500Z", "--report-dir", f"{REPORTS}/2026-01-23T020500Z/"), "pass one"),
    ],
)
def test_a_chosen_folder_that_audit_could_not_trust_is_refused_before_running(ws, args, message):
    result = ledger(ws, "do", "DEMO-001", "A1", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (ws / REPORTS).exists()


def test_default_timeout_is_below_agent_shell_tool_limits(ws):
    dry = ledger(ws, "do", "DEMO-001", "A1", "--dry-run")
    assert "timeout:    110s" in dry.stdout
    assert "timeout:    none" in ledger(ws, "do", "DEMO-001", "A1", "--dry-run", "--timeout", "0").stdout
    (ws / "ledger.toml").write_text('[tool.ledger]\ntimeout = 300\n')
    assert "timeout:    300s" in ledger(ws, "do", "DEMO-001", "A1", "--dry-run").stdout


# ------------------------------------------------------------------ real directives


def test_from_input_on_the_real_perf_directive_refuses_a_row_with_no_selector(corpus_workspace):
    # cf0a8a4__input.md: "Focus: [TEST-PYTORCH-001] … — Phase B1 fixture requirements",
    # "Mapped tests: none — measurement loop"; row B1's guidance holds no selector.
    shutil.copyfile(CORPUS / "cf0a8a4__input.md", corpus_workspace / "input.md")
    result = ledger(corpus_workspace, "do", "--from-input", "--dry-run")
    assert result.returncode == 2 and "row B1 has no pytest selector" in result.stderr, result.stderr
    # With a selector given, the rest still comes from the directive: row B1, its Artifacts folder.
    given = ledger(corpus_workspace, "do", "--from-input", "input.md", "--selector", "pytest tests/test_x.py::test_y", "--dry-run")
    assert given.returncode == 0, given.stderr
    assert "TEST-PYTORCH-001 B1 (plans/active/TEST-PYTORCH-001/implementation.md:" in given.stdout
    assert "report dir: plans/active/TEST-PYTORCH-001/reports/2025-10-19T215300Z/phase_b_fixture/  (folder chosen by --report-dir)" in given.stdout
    assert "directive:  row B1 from Focus" in given.stdout


@pytest.fixture
def dose(tmp_path):
    return copy_real_workspace("dose_experiments-37f759f", tmp_path)


def test_from_input_on_a_real_directive_runs_its_mapped_tests_into_its_artifacts_folder(dose):
    # input.md@bc7e9ca: Focus DEBUG-SIM-LINES-DOSE-001.F1 (a ledger checklist row), two mapped
    # node ids, Artifacts plans/active/DEBUG-SIM-LINES-DOSE-001/reports/2026-01-23T020500Z/.
    shutil.copyfile(CORPUS / "workspaces/directives/input.md@bc7e9ca", dose / "input.md")
    result = ledger(dose, "do", "--from-input", "--json")
    data = json.loads(result.stdout)
    assert (data["initiative"], data["row"]) == ("DEBUG-SIM-LINES-DOSE-001", "F1")
    assert data["selector"] == (
        "pytest tests/tools/test_check_inbox_for_ack_cli.py::test_sla_watch_flags_breach tests/test_generic_loader.py::test_generic_loader"
    )
    assert data["report_dir"].startswith("plans/active/DEBUG-SIM-LINES-DOSE-001/reports/2026-01-23T020500Z/")
    # The exported tree has no tests/: pytest says so, and that is a usage error, not a regression.
    assert result.returncode == 6 and data["outcome"] == "usage_error"
    assert data["reason"].startswith("file or directory not found: tests/")
    manifest = json.loads((dose / data["report_dir"] / "manifest.json").read_text())
    assert manifest["selector_source"] == "input.md Mapped tests" and manifest["directive"] == "input.md"


def test_from_input_whose_focus_names_no_row_asks_for_one(dose):
    # input.md@ec33c03: "Focus: seed — Inbox monitoring and response (checklist S1–S2)".
    shutil.copyfile(CORPUS / "workspaces/directives/input.md@ec33c03", dose / "input.md")
    result = ledger(dose, "do", "--from-input", "--dry-run")
    assert result.returncode == 2 and "Focus names seed but no row of it" in result.stderr, result.stderr
    given = ledger(dose, "do", "seed", "S1", "--from-input", "--dry-run")
    assert given.returncode == 0, given.stderr
    assert "pytest tests/test_generate_data.py::test_placeholder -q  (from input.md Mapped tests)" in given.stdout
    assert "report dir: plans/active/seed/reports/2026-01-22T024002Z/" in given.stdout


def test_a_run_cut_short_by_the_default_timeout_leaves_a_done_row(ws, monkeypatch):
    # A6 sleeps SLOW_SECONDS=30; the default is lowered (the same code path as 110 s) so the test is quick.
    plan = ws / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text().replace("| A6 | Slow | [ ] |", "| A6 | Slow | [x] |"))
    from ledger.running import do as do_module  # `import ledger.running.do` would shadow this file's ledger() helper

    monkeypatch.setattr(do_module, "DEFAULT_TIMEOUT_S", 2.0)
    from click.testing import CliRunner

    from ledger.cli import main

    result = CliRunner().invoke(main, ["do", "DEMO-001", "A6", "--json", "--root", str(ws)], catch_exceptions=False)
    assert result.exit_code == 124
    data = json.loads(result.output[result.output.index("{\n"):])
    assert data["outcome"] == "timeout" and "ledger's default --timeout" in data["reason"]
    assert "| A6 | Slow | [x] |" in plan.read_text()
    # A limit the user chose is theirs: the row is marked partial.
    chosen = ledger(ws, "do", "DEMO-001", "A6", "--timeout", "2", "--json")
    assert chosen.returncode == 124 and "| A6 | Slow | [P] |" in plan.read_text()
