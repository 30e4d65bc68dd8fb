"""`ledger do` outcomes from real pytest runs: only a run where a test body passed makes a row done,
and a tooling mistake (import error, typo, bad option) never demotes the work."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import LEDGER_BIN
from tests.integration.workspace_factory import make_workspace

PLAN_FILE = "plans/active/DEMO-001/implementation.md"

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Outcomes

    ### Phase A — Outcomes
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | B1 | Import error | [x] | `pytest tests/test_broken.py -q` |
    | B2 | Missing file | [x] | `pytest tests/test_renamed_away.py -q` |
    | B3 | Nothing matches | [x] | `pytest tests/test_demo.py -k nothing_matches_this -q` |
    | B4 | All skipped | [ ] | `pytest tests/test_skips.py -q` |
    | B5 | Setup plan | [ ] | `pytest tests/test_demo.py::test_ok --setup-plan` |
    | B6 | Docs mode | [ ] | `pytest tests/test_demo.py --collect-only -q` |
    | B7 | Fixture error | [x] | `pytest tests/test_skips.py::test_fixture_error -q` |
    | B8 | New feature (TDD) | [ ] | `pytest tests/test_feature.py -q` |
    """
)

SKIPS = textwrap.dedent(
    """\
    import pytest


    @pytest.mark.skip(reason="needs a GPU")
    def test_gpu_only():
        pass


    @pytest.mark.xfail(reason="known bug")
    def test_known_bug():
        assert False


    @pytest.fixture
    def broken():
        raise RuntimeError("fixture blew up")


    def test_fixture_error(broken):
        pass
    """
)


@pytest.fixture
def ws(tmp_path):
    root = make_workspace(tmp_path / "ws", plan=PLAN, git_repo=False)
    (root / "tests/test_broken.py").write_text("import tensorflow_not_installed_here\n\n\ndef test_x():\n    pass\n")
    (root / "tests/test_skips.py").write_text(SKIPS)
    return root


def ledger(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LEDGER_BIN), *args, "--root", str(ws)], capture_output=True, text=True, timeout=300)


def do_json(ws: Path, *args: str) -> tuple[int, dict]:
    result = ledger(ws, "do", "DEMO-001", *args, "--json")
    return result.returncode, json.loads(result.stdout)


def state_cell(ws: Path, row: str) -> str:
    line = next(l for l in (ws / PLAN_FILE).read_text().splitlines() if l.startswith(f"| {row} "))
    return line.split("|")[3].strip()


def newest_manifest(ws: Path) -> dict:
    folder = sorted((ws / "plans/active/DEMO-001/reports").glob("*/*"))[-1]
    return json.loads((folder / "manifest.json").read_text())


def ledger_text(ws: Path) -> str:
    return (ws / "docs/fix_plan.md").read_text()


def test_import_error_is_a_collection_error_that_keeps_a_done_row(ws):
    code, data = do_json(ws, "B1")
    assert code == 5 and data["outcome"] == "collection_error"
    assert data["reason"] == (
        "ModuleNotFoundError: No module named 'tensorflow_not_installed_here' (collecting tests/test_broken.py)"
    )
    assert str(ws) not in data["reason"]
    assert state_cell(ws, "B1") == "[x]" and data["state_after"] == "done"
    # The attempt is still recorded, with its outcome and reason.
    assert "COLLECTION ERROR" in ledger_text(ws) and "tensorflow_not_installed_here" in ledger_text(ws)
    assert newest_manifest(ws)["outcome"] == "collection_error"


def test_flip_on_error_opts_in_to_marking_the_row_partial(ws):
    code, data = do_json(ws, "B1", "--flip-on-error")
    assert code == 5 and data["outcome"] == "collection_error"
    assert state_cell(ws, "B1") == "[P]"


def test_a_file_that_is_not_there_is_a_usage_error(ws):
    code, data = do_json(ws, "B2")
    assert code == 6 and data["outcome"] == "usage_error"
    assert data["reason"] == "file or directory not found: tests/test_renamed_away.py"
    assert state_cell(ws, "B2") == "[x]"


def test_zero_collected_never_demotes_a_done_row(ws):
    code, data = do_json(ws, "B3")
    assert code == 3 and data["outcome"] == "no_tests"
    assert state_cell(ws, "B3") == "[x]"


def test_all_skipped_is_its_own_outcome_not_a_pass(ws):
    # "0 passed, 1 skipped" (every GPU-gated test under CUDA_VISIBLE_DEVICES="") proves nothing.
    code, data = do_json(ws, "B4", "--selector", "pytest tests/test_skips.py -q -k 'gpu_only or known_bug'")
    assert code == 7 and data["outcome"] == "skipped"
    assert data["counts"]["skipped"] == 2 and data["counts"]["passed"] == 0
    assert state_cell(ws, "B4") == "[ ]"


def test_setup_plan_is_never_a_pass(ws):
    # pytest writes a bare <testcase> under tests="0" for --setup-plan. The selector policy
    # refuses it before running (exit 2); were it run, the outcome rule says no_tests
    # (tests/unit/test_outcome.py::test_bare_setup_plan_testcase_is_not_an_executed_test).
    result = ledger(ws, "do", "DEMO-001", "B5")
    assert result.returncode == 2 and "--setup-plan" in result.stderr
    assert state_cell(ws, "B5") == "[ ]"


def test_collect_only_is_collected_with_its_count(ws):
    code, data = do_json(ws, "B6")
    assert code == 0 and data["outcome"] == "collected"
    assert data["reason"].startswith("4 tests collected")
    assert newest_manifest(ws)["log_summary"] == {"collected": 4}
    assert state_cell(ws, "B6") == "[ ]"


def test_a_fixture_error_is_a_real_failure_of_the_tests(ws):
    code, data = do_json(ws, "B7")
    assert code == 1 and data["outcome"] == "failed"
    assert state_cell(ws, "B7") == "[P]"


def test_conftest_that_does_not_import_is_a_collection_error(ws):
    (ws / "tests/conftest.py").write_text("import missing_plugin_module\n")
    code, data = do_json(ws, "B7")
    assert code == 5 and data["outcome"] == "collection_error"
    assert "No module named 'missing_plugin_module'" in data["reason"]
    assert state_cell(ws, "B7") == "[x]"


def test_red_then_green_pair(ws):
    feature = ws / "tests/test_feature.py"
    feature.write_text("def double(x):\n    return x\n\n\ndef test_double():\n    assert double(2) == 4\n")
    code, red = do_json(ws, "B8", "--expect", "fail")
    assert code == 0 and red["outcome"] == "red" and red["reason"].startswith("red confirmed: 1 failed")
    assert state_cell(ws, "B8") == "[ ]"
    assert newest_manifest(ws)["tdd"] == "red"
    assert "RED CONFIRMED" in ledger_text(ws)

    feature.write_text("def double(x):\n    return 2 * x\n\n\ndef test_double():\n    assert double(2) == 4\n")
    code, green = do_json(ws, "B8")
    assert code == 0 and green["outcome"] == "passed" and state_cell(ws, "B8") == "[x]"
    assert newest_manifest(ws)["tdd"] == "green"
    show = ledger(ws, "show", "DEMO-001", "B8")
    assert f"tdd:       red {red['report_dir']} -> green {green['report_dir']}" in show.stdout
    audit = ledger(ws, "audit", "DEMO-001", "--json")
    (row,) = [r for i in json.loads(audit.stdout)["initiatives"] for r in i["rows"] if r["row"] == "B8"]
    assert row["tdd"] == {"red": red["report_dir"], "green": green["report_dir"]}
    assert f"tdd: red {red['report_dir']} -> green {green['report_dir']}" in ledger(ws, "audit", "DEMO-001", "--all").stdout

    # Once the fix is in, a red run is not confirmed: exit 9, and the row is not touched.
    code, again = do_json(ws, "B8", "--expect", "fail")
    assert code == 9 and again["outcome"] == "unexpected_pass" and state_cell(ws, "B8") == "[x]"


def test_attempt_says_the_selector_came_from_the_command_line(ws):
    code, _ = do_json(ws, "B7", "--selector", "pytest tests/test_demo.py::test_ok -q")
    assert code == 0
    attempt = next(line for line in ledger_text(ws).splitlines() if "Attempt #2" in line)
    assert "Selector: `pytest tests/test_demo.py::test_ok -q` (from --selector, not the row's own)." in attempt
