"""`check-input` on every directive the real loop wrote (public data from hoidn/PtychoPINN, in
../shared/corpus): the dose_experiments workspace's `input.md`, two more of that loop
(`workspaces/directives/input.md@<commit>`), each checked inside a copy of that workspace, and
`cf0a8a4__input.md` inside the flat corpus placed at its paths. Each passes; the test lists,
exactly, what it still reports — all warnings:

- `Mode:` missing (that loop never writes it) and `Priorities & Rationale` missing;
- the Branch the loop worked on is not the copy's `main`;
- mapped tests in files the export lacks (tests/ is not part of it): not collectable here.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import CORPUS

DIRECTIVES = CORPUS / "workspaces" / "directives"
DOSE = "DEBUG-SIM-LINES-DOSE-001"
LOOP_WARNINGS = [
    (1, "warning", "missing header field `Mode:`"),
    (1, "warning", "missing section `Priorities & Rationale`"),
    (3, "warning", "Branch 'dose_experiments' is not the checked-out branch 'main'"),
]


def not_here(selector: str, path: str) -> tuple:
    return (4, "warning", f"selector {selector!r}: {path} is not in this workspace (a test still to be written, or a wrong path)")


def check(root: Path, directive: Path) -> dict:
    result = CliRunner().invoke(main, ["check-input", str(directive), "--json", "--root", str(root)], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def problems(report: dict) -> list[tuple]:
    return [(p["line"], p["severity"], p["message"]) for p in report["problems"]]


@pytest.fixture
def dose(real_workspace):
    return real_workspace("dose_experiments-37f759f")


def test_the_workspace_directive(dose):
    report = check(dose, dose / "input.md")
    assert report["ok"] and report["errors"] == 0
    # `Do Now (hard validity contract)` and `Next Up (optional)` are the sections they name.
    assert set(report["sections"]) == {"do_now", "how_to", "pitfalls", "if_blocked", "pointers", "next_up"}
    # The Focus is the ledger's TODO row F1, which no plan file holds.
    assert report["focus"] == {"initiative": DOSE, "row": "F1", "token": f"{DOSE}.F1", "file": "docs/fix_plan.md", "line": 794}
    inbox = "tests/tools/test_check_inbox_for_ack_cli.py"
    assert problems(report) == LOOP_WARNINGS + [
        not_here(f"pytest --collect-only {inbox}::test_status_snippet_emits_wait_summary -q", inbox),
        not_here(f"pytest {inbox}::test_status_snippet_emits_wait_summary -q", inbox),
        not_here(f"pytest {inbox}::test_escalation_note_emits_call_to_action -q", inbox),
        not_here(f"pytest {inbox} -q", inbox),
        not_here("pytest tests/test_generic_loader.py::test_generic_loader -q", "tests/test_generic_loader.py"),
    ]


def test_the_comma_separated_mapped_tests_directive(dose):
    directive = DIRECTIVES / "input.md@bc7e9ca"
    if not directive.is_file():
        pytest.skip(f"{directive} not found")
    report = check(dose, directive)
    assert report["ok"]
    # `Mapped tests: a::t, b::t` is two node ids, split like a `;` list.
    assert [s["selector"] for s in report["selectors"]] == [
        "tests/tools/test_check_inbox_for_ack_cli.py::test_sla_watch_flags_breach",
        "tests/test_generic_loader.py::test_generic_loader",
    ]
    assert problems(report) == LOOP_WARNINGS + [
        not_here("tests/tools/test_check_inbox_for_ack_cli.py::test_sla_watch_flags_breach", "tests/tools/test_check_inbox_for_ack_cli.py"),
        not_here("tests/test_generic_loader.py::test_generic_loader", "tests/test_generic_loader.py"),
    ]


def test_the_seed_directive(dose):
    directive = DIRECTIVES / "input.md@ec33c03"
    if not directive.is_file():
        pytest.skip(f"{directive} not found")
    report = check(dose, directive)
    assert report["ok"] and report["focus"] == {"initiative": "seed", "row": None, "token": "seed"}
    assert problems(report) == LOOP_WARNINGS + [
        not_here("pytest tests/test_generate_data.py::test_placeholder -q", "tests/test_generate_data.py"),
    ]


def test_the_older_directive_in_the_flat_corpus(corpus_workspace):
    shutil.copyfile(CORPUS / "cf0a8a4__input.md", corpus_workspace / "input.md")
    report = check(corpus_workspace, corpus_workspace / "input.md")
    assert report["ok"] and report["focus"]["initiative"] == "TEST-PYTORCH-001"
    # The flat corpus has no docs/findings.md: a citation cannot be checked, it is not wrong.
    assert problems(report) == [
        (18, "warning", "cites finding CONFIG-001, but there is no docs/findings.md to check it against"),
    ]


def test_a_selector_this_environment_cannot_import_is_a_warning_a_wrong_one_an_error(dose):
    """PtychoPINN's tests import tensorflow, which is not installed here: check-input cannot
    collect them, which says nothing about the selector. A node id missing from a file that
    exists is a wrong selector."""
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("tensorflow is installed here")
    (dose / "tests").mkdir()
    (dose / "tests" / "test_tf_model.py").write_text("import tensorflow\n\n\ndef test_model():\n    assert tensorflow\n")
    (dose / "tests" / "test_plain.py").write_text("def test_present():\n    assert True\n")
    directive = dose / "input.md"
    text = directive.read_text().splitlines(keepends=True)
    assert text[3].startswith("Mapped tests:")
    text[3] = "Mapped tests: tests/test_tf_model.py::test_model, tests/test_plain.py::test_present, tests/test_plain.py::test_absent\n"
    directive.write_text("".join(text))
    report = check(dose, directive)
    assert not report["ok"] and report["errors"] == 1
    assert problems(report)[3:] == [
        (4, "warning", "selector 'tests/test_tf_model.py::test_model' cannot be collected in this environment: "
                       "No module named 'tensorflow' (install the project's dependencies to check it)"),
        (4, "error", "selector 'tests/test_plain.py::test_absent' collects 0 tests"),
    ]
    assert [(s["selector"], s["collected"]) for s in report["selectors"]] == [
        ("tests/test_tf_model.py::test_model", None),
        ("tests/test_plain.py::test_present", 1),
        ("tests/test_plain.py::test_absent", 0),
    ]
