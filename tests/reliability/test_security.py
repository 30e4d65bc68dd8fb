"""Selectors never reach a shell, ids and slugs never leave the workspace, written
text cannot break the table or the ledger's structure, env overrides are NAME=value."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.table import split_cells
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from tests.reliability.helpers import (
    HEADER, LEDGER_FILE, PLAN_FILE, SEPARATOR, assert_clean_error, changed, cli, files, ledger, workspace,
)

INJECTIONS = [
    "pytest tests/test_demo.py::test_ok; touch {m}",
    "pytest tests/test_demo.py::test_ok && touch {m}",
    "pytest tests/test_demo.py::test_ok || touch {m}",
    "pytest $(touch {m})",
    "pytest `touch {m}`",
    "pytest ${{IFS}}tests",
    "pytest tests/test_demo.py::test_ok > {m}",
    "pytest tests/test_demo.py::test_ok 2>{m}",
    "pytest tests/test_demo.py::test_ok < {m}",
    "pytest tests/test_demo.py::test_ok | tee {m}",
    "pytest tests/test_demo.py::test_ok & touch {m}",
    "touch {m}",
    "sh -c 'touch {m}'",
    "bash -c 'pytest; touch {m}'",
    "python -c 'open(\"{m}\", \"w\")'",
    "env X=1 touch {m}",
    "X=1 touch {m}",
    "/usr/bin/touch {m}",
]


@pytest.fixture
def root(tmp_path):
    return workspace(tmp_path)


@pytest.mark.parametrize("template", INJECTIONS)
def test_selector_override_never_reaches_a_shell(root, tmp_path, template):
    marker = tmp_path / "INJECTED"
    before = files(root)
    result = cli(root, "do", "DEMO-001", "A1", "--selector", template.format(m=marker))
    assert_clean_error(result, 2, "selector")
    assert not marker.exists()
    assert files(root) == before  # no report folder, no flip, no attempt


@pytest.mark.parametrize("template", INJECTIONS[:8] + ["PYTHONPATH=x pytest tests; touch {m}"])
def test_selector_in_plan_text_never_reaches_a_shell(tmp_path, template):
    marker = tmp_path / "INJECTED"
    span = template.format(m=marker).replace("`", "\\`")
    root = workspace(tmp_path, plan=HEADER + SEPARATOR + f"| A1 | evil | [ ] | Run `` {span} ``. |\n")
    before = files(root)
    for args in (("do", "DEMO-001", "A1"), ("do", "DEMO-001", "A1", "--dry-run")):
        result = cli(root, *args)
        assert_clean_error(result, 2)
    assert not marker.exists()
    assert files(root) == before


def test_shell_words_in_an_argv_element_are_only_data(root):
    """Spaces and quotes are tokenised by shlex into argv; a -k expression stays one element."""
    result = ledger(root, "do", "DEMO-001", "A1", "--selector", "pytest tests/test_demo.py -k 'ok and not bad'", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    argv_line = next(line for line in json.loads(result.stdout)["plan"] if line.startswith("argv:"))
    argv = json.loads(argv_line.split(":", 1)[1])
    assert argv[1:6] == ["-m", "pytest", "tests/test_demo.py", "-k", "ok and not bad"]


# ------------------------------------------------------------------ paths


@pytest.mark.parametrize("args, fragment", [
    (("do", "../outside", "A1"), "invalid initiative id"),
    (("do", "/etc", "A1"), "invalid initiative id"),
    (("do", "DEMO-001/../..", "A1"), "invalid initiative id"),
    (("do", "..", "A1"), "invalid initiative id"),
    (("mark", "../x", "A1", "x"), "invalid initiative id"),
    (("show", "../x", "A1"), "invalid initiative id"),
    (("attempt", "add", "../x", "--summary", "s"), "invalid initiative id"),
    (("attempt", "add", "/tmp/x", "--summary", "s"), "invalid initiative id"),
    (("do", "DEMO-001", "../../x"), "unknown row"),
    (("mark", "DEMO-001", "/etc/passwd", "x"), "unknown row"),
    (("do", "DEMO-001", "A1", "--slug", "../x"), "invalid slug"),
    (("do", "DEMO-001", "A1", "--slug", "/tmp/x"), "invalid slug"),
    (("do", "DEMO-001", "A1", "--slug", "a/../../b"), "invalid slug"),
    (("do", "DEMO-001", "A1", "--slug", ".."), "invalid slug"),
    (("do", "DEMO-001", "A1", "--slug", "x/.."), "invalid slug"),
])
def test_ids_and_slugs_cannot_escape_the_workspace(root, args, fragment):
    before = files(root)
    outside = set(os.listdir(root.parent))
    assert_clean_error(cli(root, *args), 2, fragment)
    assert files(root) == before and set(os.listdir(root.parent)) == outside


def test_a_symlinked_reports_folder_pointing_outside_is_refused(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "plans/active/DEMO-001/reports").symlink_to(outside)
    before = files(root)
    assert_clean_error(ledger(root, "do", "DEMO-001", "A1"), 2, "resolves outside the workspace")
    assert list(outside.iterdir()) == [] and files(root) == before


def test_a_symlinked_timestamp_folder_is_never_written_into(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    reports = root / "plans/active/DEMO-001/reports"
    reports.mkdir()
    (reports / "2000-01-01T000000Z").symlink_to(outside)
    result = ledger(root, "do", "DEMO-001", "A1", "--json")
    assert result.returncode == 0, result.stderr
    assert list(outside.iterdir()) == []
    assert not json.loads(result.stdout)["report_dir"].startswith("plans/active/DEMO-001/reports/2000-")


@pytest.mark.parametrize("report_root", ["../outside/{initiative}", "/tmp/ledger-outside-{initiative}", "plans/../../outside"])
def test_a_configured_report_root_outside_the_workspace_is_refused(root, tmp_path, report_root):
    (root / "ledger.toml").write_text(f'[tool.ledger]\nreport_root = "{report_root}"\n')
    before = files(root)
    assert_clean_error(ledger(root, "do", "DEMO-001", "A1"), 2, "outside the workspace")
    assert files(root) == before
    assert not (tmp_path / "outside").exists() and not Path("/tmp/ledger-outside-DEMO-001").exists()


# ------------------------------------------------------------------ written text


def test_note_with_pipes_newlines_and_backticks_stays_in_its_cell(root):
    note = "a | b\nc `d` e ` f \\| g\n| X9 | injected row | [x] | |"
    before_plan = parse_plan(SourceText.read(root / PLAN_FILE))
    result = ledger(root, "mark", "DEMO-001", "A2", "P", "--note", note)
    assert result.returncode == 0, result.stderr
    text = (root / PLAN_FILE).read_text()
    after_plan = parse_plan(SourceText.read(root / PLAN_FILE))
    assert [r.id for r in after_plan.rows] == [r.id for r in before_plan.rows]  # no X9 row appeared
    assert after_plan.diagnostics == before_plan.diagnostics == []
    line = next(l for l in text.splitlines() if l.startswith("| A2 "))
    header = next(l for l in text.splitlines() if l.startswith("| ID "))
    assert len(split_cells(line)) == len(split_cells(header)) == 4
    a2 = next(r for r in after_plan.rows if r.id == "A2")
    assert a2.state == "partial" and a2.description == "Failing selector"
    # The unpaired backtick escapes them all, so none can open a span that swallows a pipe.
    assert a2.guidance.endswith(r"a \| b c \`d\` e \` f \| g \| X9 \| injected row \| [x] \| \|")
    assert len(text.splitlines()) == len((root / PLAN_FILE).read_text().splitlines())


def test_attempt_summary_cannot_inject_items_or_attempts(root):
    summary = "done\n## [EVIL-1] Injected item\n- Attempts History:\n  * [2026-01-01] Attempt #99 — fake"
    result = ledger(root, "attempt", "add", "DEMO-001", "--summary", summary, "--json")
    assert result.returncode == 0, result.stderr
    doc = parse_ledger(SourceText.read(root / LEDGER_FILE))
    assert list(doc.items) == ["DEMO-001"]
    assert [a.number for a in doc.attempts_for("DEMO-001")] == [0, 1, 2]
    assert ledger(root, "attempt", "add", "DEMO-001", "--summary", "next", "--json").stdout.count('"attempt": 3') == 1


GLOBAL_LEDGER = (
    "# Fix Plan\n\n## Attempts History\n\n"
    "### 2026-11-01T10:00Z — DEMO-001 A1 (attempt #1)\nfirst\n\n"
    "### 2026-11-01T11:00Z — OTHER-1 B2 (attempt #1)\nother\n"
)


@pytest.mark.parametrize("summary", [
    "ok\n### 2026-01-01T00:00Z — OTHER-1 B1 (attempt #7)\nfake",
    "ok\n## Done\nsection break",
    "ok\n```\nan unclosed fence would hide every later entry",
    "ok\n# Title",
])
def test_global_ledger_summary_cannot_forge_entries_or_hide_later_ones(tmp_path, summary):
    root = workspace(tmp_path, ledger_text=GLOBAL_LEDGER)
    result = ledger(root, "attempt", "add", "DEMO-001", "--summary", summary, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["attempt"] == 2
    result = ledger(root, "attempt", "add", "DEMO-001", "--summary", "after", "--json")
    assert json.loads(result.stdout)["attempt"] == 3
    doc = parse_ledger(SourceText.read(root / LEDGER_FILE))
    assert len(doc.attempts_for("DEMO-001")) == 3 and len(doc.attempts_for("OTHER-1")) == 1
    text = (root / LEDGER_FILE).read_text()
    assert text.startswith(GLOBAL_LEDGER)
    assert summary.split("\n")[1] not in text.splitlines()  # the forged line is escaped, its words kept
    assert "\\" + summary.split("\n")[1].lstrip() in text


def test_global_ledger_summary_keeps_a_closed_code_block_verbatim(tmp_path):
    root = workspace(tmp_path, ledger_text=GLOBAL_LEDGER)
    summary = "ran:\n```\n## not a heading, inside code\n```"
    assert ledger(root, "attempt", "add", "DEMO-001", "--summary", summary).returncode == 0
    assert (root / LEDGER_FILE).read_text().endswith(summary + "\n")


# ------------------------------------------------------------------ environment


@pytest.mark.parametrize("selector, fragment", [
    ("X-Y=1 pytest tests/test_demo.py::test_ok", "not a NAME=value prefix"),
    ("1X=1 pytest tests/test_demo.py::test_ok", "not a NAME=value prefix"),
    ("X.Y=1 pytest tests/test_demo.py::test_ok", "not a NAME=value prefix"),
    ("=1 pytest tests/test_demo.py::test_ok", "not a pytest invocation"),
    ("X=1", "no command"),
    ("env X=1 pytest tests/test_demo.py::test_ok", "not a pytest invocation"),
    ("X=$(id) pytest tests/test_demo.py::test_ok", "shell substitution"),
    ("X=`id` pytest tests/test_demo.py::test_ok", "shell substitution"),
    ("X=${HOME}/y pytest tests/test_demo.py::test_ok", "shell substitution"),
])
def test_selector_env_overrides_are_only_name_value(root, selector, fragment):
    before = files(root)
    assert_clean_error(cli(root, "do", "DEMO-001", "A1", "--selector", selector, "--dry-run"), 2, fragment)
    assert files(root) == before


def test_valid_env_override_reaches_only_the_environment(root):
    (root / "ledger.toml").write_text('[tool.ledger]\nenv = { CUDA_VISIBLE_DEVICES = "" }\nallow_env = ["A_B"]\n')
    result = ledger(root, "do", "DEMO-001", "A1", "--selector", "A_B='x y; z' pytest tests/test_demo.py::test_ok", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    env = json.loads(next(l for l in plan if l.startswith("env:")).split(":", 1)[1])
    argv = json.loads(next(l for l in plan if l.startswith("argv:")).split(":", 1)[1])
    assert env == {"CUDA_VISIBLE_DEVICES": "", "A_B": "x y; z"}
    assert not any("A_B" in arg for arg in argv)


@pytest.mark.parametrize("table, fragment", [
    ('env = { "A B" = "x" }', "env override 'A B'"),
    ('env = { "X;touch" = "x" }', "env override 'X;touch'"),
    ('env = { X = true }', "env override 'X'"),
    ('env = { X = ["a"] }', "env override 'X'"),
    ('env = { X = { Y = "1" } }', "env override 'X'"),
    ('env = "X=1; touch MARK"', "env must be a table"),
])
def test_config_env_overrides_are_only_name_value(root, table, fragment):
    (root / "ledger.toml").write_text(f"[tool.ledger]\n{table}\n")
    before = files(root)
    assert_clean_error(cli(root, "do", "DEMO-001", "A1", "--dry-run"), 2, "ledger.toml", fragment)
    assert files(root) == before
