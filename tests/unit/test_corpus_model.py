"""Every real file in ../shared/corpus parses; flipping any row changes exactly that row's state token.

The corpus is public data written by a real agent loop (hoidn/PtychoPINN); these
tests read it in place and never copy it into the repository.
"""

from pathlib import Path

import pytest

from ledger.markdown.splice import Splice, apply_splices
from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from ledger.documents.states import RowState, StateVocabulary
from tests.conftest import corpus_files

MARKDOWN = corpus_files(".md")
pytestmark = pytest.mark.skipif(not MARKDOWN, reason="../shared/corpus not present")


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name[:60])
def test_every_corpus_file_parses_as_plan_and_ledger(path: Path):
    source = SourceText.read(path)
    plan = parse_plan(source)
    ledger = parse_ledger(source)
    for row in plan.rows:
        assert source.text[slice(*row.state_span)] == row.state_token
    assert ledger.layout in {"items", "global", "empty"}


def test_corpus_plans_have_the_expected_rows():
    by_name = {p.name.split("__", 1)[1]: p for p in MARKDOWN}
    plan = parse_plan(SourceText.read(by_name["plans__active__TEST-PYTORCH-001__implementation.md"]))
    assert [r.id for r in plan.rows] == ["A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3", "D1", "D2", "D3"]
    old = parse_plan(SourceText.read(by_name["plans__examples__2025-07-registration-refactor__phase_1_checklist.md"]))
    assert len(old.rows) == 18 and all(r.state == RowState.DONE for r in old.rows)
    checklist = parse_plan(SourceText.read(by_name["plans__active__DEBUG-SIM-LINES-DOSE-001__implementation.md"]))
    assert [r.id for r in checklist.rows] == ["A1", "A2", "B1", "B2", "C1", "C2"]


def test_corpus_ledgers_layouts():
    by_name = {p.name: p for p in MARKDOWN}
    items = parse_ledger(SourceText.read(by_name["idx15154903389__docs__fix_plan.md"]))
    assert items.layout == "items"
    assert [a.number for a in items.items["INTEGRATE-PYTORCH-000"].attempts] == [0, 1, 2, 3, 4, 5]
    global_ = parse_ledger(SourceText.read(by_name["7a7c0b1__docs__fix_plan.md"]))
    assert global_.layout == "global" and len(global_.history.entries) == 13


def _all_rows():
    vocabulary = StateVocabulary()
    for path in MARKDOWN:
        source = SourceText.read(path)
        for row in parse_plan(source, vocabulary).rows:
            yield pytest.param(path, row.line, id=f"{path.name[:30]}:{row.line}")


@pytest.mark.parametrize("path,line", list(_all_rows()))
def test_flipping_any_corpus_row_changes_exactly_that_cell(path: Path, line: int):
    source = SourceText.read(path)
    vocabulary = StateVocabulary()
    row = next(r for r in parse_plan(source, vocabulary).rows if r.line == line)
    target = RowState.PARTIAL if row.state != RowState.PARTIAL else RowState.DONE
    token = vocabulary.token_for(target)
    new_text = apply_splices(source.text, [Splice(*row.state_span, token)])
    old_lines = source.text.split("\n")
    new_lines = new_text.split("\n")
    assert len(old_lines) == len(new_lines)
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert changed == ([line - 1] if token != row.state_token else [])
    reparsed = {(r.id, r.line): r for r in parse_plan(SourceText(path, new_text, "x"), vocabulary).rows}
    before = {(r.id, r.line): r for r in parse_plan(source, vocabulary).rows}
    assert reparsed.keys() == before.keys()
    for key, old in before.items():
        new = reparsed[key]
        if key == (row.id, row.line):
            assert new.state == target
        else:
            assert (new.state, new.guidance, new.description) == (old.state, old.guidance, old.description)
    raw = path.read_bytes()
    start = len(source.text[: row.state_span[0]].encode("utf-8"))
    end = len(source.text[: row.state_span[1]].encode("utf-8"))
    assert new_text.encode("utf-8") == raw[:start] + token.encode("utf-8") + raw[end:]
