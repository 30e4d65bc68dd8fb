"""`brief`, `check-input`, `selectors`, `findings` through the real CLI on temp git workspaces."""

import json
import shutil

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import CORPUS, git
from tests.integration.workspace_factory import make_workspace

AT = "2026-11-23T040000Z"


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def run(ws, *args):
    return CliRunner().invoke(main, [*args, "--root", str(ws)])


def test_brief_renders_every_header_and_section(ws):
    result = run(ws, "brief", "DEMO-001", "A1", "--at", AT)
    assert result.exit_code == 0, result.output
    text = result.output
    for key in ("Summary:", "Mode: TDD", "Focus: [DEMO-001.A1] Demo initiative", "Branch: main",
                "Mapped tests: `pytest tests/test_demo.py::test_ok -q`",
                f"Artifacts: plans/active/DEMO-001/reports/{AT}/phase_a_assessment/"):
        assert key in text
    headings = [line.split(":")[0] for line in text.splitlines() if line and not line[0] in "-0123456789 "]
    assert headings[6:] == ["Do Now", "If Blocked", "Priorities & Rationale", "How-To Map", "Pitfalls To Avoid", "Pointers", "Next Up"]
    assert "docs/findings.md:5 — POLICY-001: demo" in text
    assert "Attempt #1 (2026-11-02): Phase A.A4: prose." in text
    assert "Next Up: 1. DEMO-001 A2" in text
    assert '`CUDA_VISIBLE_DEVICES=""`' in text


def test_brief_output_passes_check_input(ws):
    out = ws / "input.md"
    result = run(ws, "brief", "DEMO-001", "C1", "--mode", "parity", "-o", str(out))
    assert result.exit_code == 0 and out.exists()
    assert "Mode: Parity" in out.read_text()
    check = run(ws, "check-input", str(out), "--json")
    assert check.exit_code == 0, check.output
    data = json.loads(check.output)
    assert data["ok"] and data["focus"]["initiative"] == "DEMO-001" and data["focus"]["row"] == "C1"
    assert data["selectors"][0]["collected"] == 1
    assert {f["id"] for f in data["findings"]} == {"POLICY-001"} and all(f["known"] for f in data["findings"])


def test_brief_row_without_selector_says_none(ws):
    result = run(ws, "brief", "DEMO-001", "A4", "--at", AT)
    assert result.exit_code == 0
    assert "Mode: none" in result.output
    assert "Mapped tests: none — row A4 has no pytest selector" in result.output


def test_brief_uses_workspace_template_override(ws):
    (ws / "templates").mkdir()
    (ws / "templates/input.md.j2").write_text("Focus: [{{ initiative }}] {{ row }} only\n")
    result = run(ws, "brief", "DEMO-001", "A1")
    assert result.output == "Focus: [DEMO-001] A1 only\n"


def test_brief_unknown_row_is_exit_2(ws):
    result = run(ws, "brief", "DEMO-001", "Z9")
    assert result.exit_code == 2 and "unknown row 'Z9'" in result.output and "Traceback" not in result.output


BAD_DIRECTIVE = """\
Summary: bad one
Mode: Vibes
Focus: [NOPE-001] nothing
Mapped tests: `pytest tests/test_demo.py::test_missing -q`; `pytest tests/test_demo.py; rm -rf /`
Artifacts: /tmp/elsewhere/

Do Now:
1. cite CONFIG-009 finding
"""


def test_check_input_reports_each_problem_with_line(ws):
    (ws / "input.md").write_text(BAD_DIRECTIVE)
    result = run(ws, "check-input")
    assert result.exit_code == 2  # a refused selector (shell syntax) is bad input, and is never collected
    out = result.output
    assert "input.md:1: error: missing header field `Branch:`" in out
    assert "input.md:2: error: unknown Mode 'Vibes'" in out
    assert "input.md:3: error: Focus names no existing initiative: 'NOPE-001'" in out
    assert "input.md:4: error: selector 'pytest tests/test_demo.py::test_missing -q' collects 0 tests" in out
    assert "input.md:4: error: selector 'pytest tests/test_demo.py; rm -rf /' contains shell syntax" in out
    assert "ledger: error: input.md:4: selector 'pytest tests/test_demo.py; rm -rf /' contains shell syntax 'tests/test_demo.py;'; ledger never runs a shell [rule: no-shell]" in out
    assert "input.md:8: error: cites finding CONFIG-009" in out
    assert "warning: missing section `Pointers`" in out


def test_check_input_artifacts_outside_report_root(ws):
    text = run(ws, "brief", "DEMO-001", "A1", "--at", AT).output
    (ws / "input.md").write_text(text.replace(f"plans/active/DEMO-001/reports/{AT}/phase_a_assessment/", "docs/../../x/"))
    data = json.loads(run(ws, "check-input", "--json", "--no-collect").output)
    assert not data["ok"]
    assert any("is not under the initiative's report root" in p["message"] for p in data["problems"])


def test_check_input_accepts_real_directive(tmp_path):
    # Quotes the real directive in the read-only corpus (hoidn/PtychoPINN, public data),
    # checked against a workspace holding its initiative plus the findings it cites.
    source = CORPUS / "cf0a8a4__input.md"
    if not source.exists():
        pytest.skip("corpus missing")
    ws = tmp_path / "ws"
    (ws / "plans/active/TEST-PYTORCH-001").mkdir(parents=True)
    shutil.copyfile(CORPUS / "2e97fa9__plans__active__TEST-PYTORCH-001__implementation.md", ws / "plans/active/TEST-PYTORCH-001/implementation.md")
    (ws / "docs").mkdir()
    (ws / "docs/findings.md").write_text("| Finding ID | Synopsis |\n| CONFIG-001 | params first |\n")
    shutil.copyfile(source, ws / "input.md")
    result = run(ws, "check-input", "--json")
    data = json.loads(result.output)
    assert result.exit_code == 0, data["problems"]
    assert data["focus"]["initiative"] == "TEST-PYTORCH-001" and data["selectors"] == []
    assert data["fields"]["mode"]["value"] == "Perf"


def test_check_input_missing_file_is_exit_2(ws):
    result = run(ws, "check-input", str(ws / "nope.md"))
    assert result.exit_code == 2 and "file not found" in result.output


def test_selectors_map_and_collect(ws):
    result = run(ws, "selectors", "--json")
    assert result.exit_code == 0
    entries = {e["row"]: e for e in json.loads(result.output)["selectors"]}
    assert set(entries) == {"A1", "A2", "A3", "A5", "A6", "C1"}
    assert entries["C1"]["env"] == {"CUDA_VISIBLE_DEVICES": "", "DEMO_FLAG": "on"}
    assert entries["A5"]["error"] and entries["A5"]["flagged"]
    collected = run(ws, "selectors", "DEMO-001", "--collect", "--json")
    assert collected.exit_code == 2  # A5 is refused (shell syntax): never collected, exit 2
    entries = {e["row"]: e for e in json.loads(collected.output.split("\nledger: error:")[0])["selectors"]}
    assert entries["A5"]["refused"] and entries["A5"]["rule"] == "no-shell" and entries["A5"]["collected"] is None
    assert entries["A1"]["collected"] == 1 and not entries["A1"]["flagged"]
    assert entries["A3"]["collected"] == 0 and entries["A3"]["flagged"]
    assert entries["C1"]["collected"] == 1  # DEMO_FLAG only matters at run time
    assert git(ws, "status", "--porcelain") == ""  # collecting leaves nothing behind


def test_selectors_collect_text_flags_zero(ws):
    result = run(ws, "selectors", "--collect")
    assert result.exit_code == 2  # A5 is refused
    line = next(line for line in result.output.splitlines() if " A3 " in line)
    assert "[0 tests]" in line and "collects nothing" in line
    assert "6 selectors, 2 flagged" in result.output


def test_findings_lists_and_flags_unknown(ws):
    result = run(ws, "findings", "--json")
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["findings"][0]["id"] == "POLICY-001"
    assert data["findings"][0]["cited_by"] == ["plans/active/DEMO-001/implementation.md:4"]
    plan = ws / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text().replace("- Findings: POLICY-001", "- Findings: POLICY-001, DATA-042"))
    result = run(ws, "findings")
    assert result.exit_code == 1
    assert "plans/active/DEMO-001/implementation.md:4: cites unknown finding DATA-042" in result.output


def test_shell_completion_lists_initiatives_and_rows(ws, monkeypatch):
    monkeypatch.chdir(ws)
    runner = CliRunner()

    def complete(words, cword):
        env = {"_LEDGER_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        result = runner.invoke(main, [], env=env, prog_name="ledger")
        return [line.split(",", 1)[1] for line in result.output.splitlines()]

    assert "check-input" in complete("ledger check", 1)
    assert complete("ledger brief DE", 2) == ["DEMO-001"]
    assert complete("ledger brief DEMO-001 A", 3) == ["A1", "A2", "A3", "A4", "A5", "A6"]


def test_check_input_accepts_artifacts_relative_to_the_initiative(ws):
    text = run(ws, "brief", "DEMO-001", "A1", "--at", AT).output
    (ws / "input.md").write_text(text.replace(f"Artifacts: plans/active/DEMO-001/reports/{AT}", f"Artifacts: reports/{AT}"))
    data = json.loads(run(ws, "check-input", "--json", "--no-collect").output)
    assert data["ok"], data["problems"]


def test_selectors_markdown_document(ws):
    result = run(ws, "selectors", "DEMO-001", "--markdown", "--collect")
    assert result.exit_code == 2  # A5 is refused
    text = result.output
    assert text.startswith("# Selector Map — DEMO-001\n")
    assert 'export CUDA_VISIBLE_DEVICES=""' in text
    assert "| A3 | open | `pytest tests/test_demo.py::test_missing -q` | — | **0** |" in text
    assert "| C1 | open | `DEMO_FLAG=on pytest tests/test_demo.py::test_env -q` | DEMO_FLAG=on | 1 |" in text
    assert "| A5 | open | REFUSED: " in text


def test_brief_with_a_broken_workspace_template_is_one_line(ws):
    (ws / "templates").mkdir()
    (ws / "templates/input.md.j2").write_text("Summary: ok\n{{ no_such_variable }}\n")
    result = run(ws, "brief", "DEMO-001", "A1")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "templates/input.md.j2:2: template input.md.j2: 'no_such_variable' is undefined" in result.output


def test_check_input_warns_about_another_branch(ws):
    text = run(ws, "brief", "DEMO-001", "A1", "--at", AT).output
    (ws / "input.md").write_text(text.replace("Branch: main", "Branch: feature/torchapi"))
    result = run(ws, "check-input", "--no-collect")
    assert result.exit_code == 0
    assert "input.md:4: warning: Branch 'feature/torchapi' is not the checked-out branch 'main'" in result.output
