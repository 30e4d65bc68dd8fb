"""The two writing commands on copies of the real corpus files: each changes exactly
what it was asked to and reads back, in every ledger layout the corpus holds."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from tests.conftest import CORPUS, LEDGER_BIN, corpus_files


def run(root, *args):
    return subprocess.run([str(LEDGER_BIN), *args, "--root", str(root)], capture_output=True, text=True, timeout=60)


LEDGERS = [p for p in corpus_files() if p.name.endswith("__docs__fix_plan.md")]


@pytest.mark.skipif(not LEDGERS, reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("source", LEDGERS, ids=lambda p: p.name.split("__")[0])
def test_attempt_add_on_each_real_ledger_layout(corpus_workspace, source):
    root = corpus_workspace
    ledger_path = root / "docs/fix_plan.md"
    shutil.copyfile(source, ledger_path)
    old = ledger_path.read_text(encoding="utf-8")
    doc = parse_ledger(SourceText.read(ledger_path))
    assert doc.layout in ("items", "global")
    counts = {}
    for attempt in doc.all_attempts():
        counts[attempt.initiative] = counts.get(attempt.initiative, 0) + 1
    initiative = max(counts, key=counts.get)  # the initiative with the most history
    if not (root / "plans/active" / initiative).is_dir():
        (root / "plans/active" / initiative).mkdir(parents=True)
    before = {i: [(a.number, a.text) for a in doc.attempts_for(i)] for i in counts}
    result = run(root, "attempt", "add", initiative, "--summary", "corpus check | `x` \n## not a heading", "--json")
    assert result.returncode == 0, result.stderr
    number = json.loads(result.stdout)["attempt"]
    fresh = parse_ledger(SourceText.read(ledger_path))
    if doc.layout == "items":
        assert number == doc.next_attempt_number(initiative)
    assert len(fresh.attempts_for(initiative)) == len(before[initiative]) + 1
    for other, attempts in before.items():
        if other != initiative:
            assert [(a.number, a.text) for a in fresh.attempts_for(other)] == attempts
    new = ledger_path.read_text(encoding="utf-8")
    prefix = 0
    while prefix < len(old) and old[prefix] == new[prefix]:
        prefix += 1
    inserted = len(new) - len(old)
    assert inserted > 0 and new[:prefix] + new[prefix + inserted:] == old  # one block inserted, nothing else moved


PLANS = [p for p in corpus_files() if "__plans__active__" in p.name and "__reports__" not in p.name]


@pytest.mark.skipif(not PLANS, reason=f"corpus not found at {CORPUS}")
def test_mark_on_real_plans_changes_one_line_per_edit(corpus_workspace):
    root = corpus_workspace
    status = json.loads(run(root, "status", "--json").stdout)
    edits = 0
    for item in status["initiatives"]:
        rows = [row for phase in item["phases"] for row in phase["rows"]]
        for row in [r for r in rows if r["state"] == "open"][:1] + [r for r in rows if r["state"] == "done"][:1]:
            plan = root / row["file"]
            before = plan.read_bytes()
            reference = row["ref"]  # every listed row carries a reference mark accepts
            target = "partial" if row["state"] == "done" else "done"
            result = run(root, "mark", item["initiative"], reference, target, "--note", "corpus | check `x`")
            assert result.returncode == 0, result.stderr
            after = plan.read_bytes()
            old_lines, new_lines = before.split(b"\n"), after.split(b"\n")
            assert len(old_lines) == len(new_lines)
            assert [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b] == [row["line"] - 1]
            edits += 1
        fresh = json.loads(run(root, "status", item["initiative"], "--json").stdout)["initiatives"][0]
        assert fresh["counts"]["rows"] == item["counts"]["rows"]
        assert fresh["diagnostics"] == item["diagnostics"]
    assert edits >= 6
