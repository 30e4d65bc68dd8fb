"""Reading supervisor directives: header variants, sections, Focus and Mapped tests."""

from pathlib import Path

import pytest

from ledger.documents.directive import artifacts_path, parse_directive, parse_focus, split_key_line
from ledger.running.selector import mapped_selectors
from ledger.markdown.text import SourceText
from ledger.running.selectors import parse_collect_output
from tests.conftest import CORPUS


def parse(text: str):
    return parse_directive(SourceText(Path("input.md"), text, ""))


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Mode: Perf", ("mode", "Perf", True)),
        ("**Mode:** Perf", ("mode", "Perf", True)),
        ("**Mode**: Perf", ("mode", "Perf", True)),
        ("__Mapped tests:__ none", ("mapped tests", "none", True)),
        ("## Do Now", ("do now", "", True)),
        ("## Do Now:", ("do now", "", True)),
        ("**Pitfalls To Avoid**", ("pitfalls to avoid", "", True)),
        ("Pointers", ("pointers", "", False)),
        ("If Blocked: Document it", ("if blocked", "Document it", True)),
    ],
)
def test_key_line_variants(line, expected):
    assert split_key_line(line) == expected


def test_real_directive_is_read():
    # Quotes the real directive in the read-only corpus (hoidn/PtychoPINN, public data).
    path = CORPUS / "cf0a8a4__input.md"
    if not path.exists():
        pytest.skip("corpus missing")
    directive = parse_directive(SourceText.read(path))
    assert set(directive.fields) == {"summary", "mode", "focus", "branch", "mapped_tests", "artifacts"}
    assert directive.fields["mode"].value == "Perf"
    assert list(directive.sections) == ["do_now", "if_blocked", "priorities", "how_to", "pitfalls", "pointers", "next_up"]
    # The heredoc inside How-To Map (`with np.load(path) as data:`) is not a key.
    assert directive.sections["how_to"].line == 21 and not directive.repeated
    assert mapped_selectors(directive.fields["mapped_tests"].value) == ([], True)
    assert artifacts_path(directive.fields["artifacts"].value) == "plans/active/TEST-PYTORCH-001/reports/2025-10-19T215300Z/phase_b_fixture/"


def test_bold_and_heading_directive():
    directive = parse(
        "**Summary:** s\n**Mode:** TDD\n**Focus:** X-1\n**Branch:** main\n"
        "**Mapped tests:**\n  - `pytest tests/a.py::t`\n  - `CUDA_VISIBLE_DEVICES=\"\" pytest tests/b.py -k x`\n"
        "**Artifacts:** `plans/active/X-1/reports/2026-01-01T000000Z/p/`\n\n## Do Now\n1. go\n\n## Next Up\nmore\n"
    )
    assert set(directive.fields) == {"summary", "mode", "focus", "branch", "mapped_tests", "artifacts"}
    selectors, says_none = mapped_selectors(directive.fields["mapped_tests"].full_text)
    assert selectors == ["pytest tests/a.py::t", 'CUDA_VISIBLE_DEVICES="" pytest tests/b.py -k x'] and not says_none
    assert list(directive.sections) == ["do_now", "next_up"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("[TEST-PYTORCH-001] Author regression — Phase B1", ("TEST-PYTORCH-001", None)),
        ("TEST-PYTORCH-001 Phase B", ("TEST-PYTORCH-001", None)),
        ("[DEMO-001.A1] Demo", ("DEMO-001", "A1")),
        ("[DEMO-001].C.C1 Demo", ("DEMO-001", "C.C1")),
        ("DEMO-001.E2.A1: sub-plan row", ("DEMO-001", "E2.A1")),
        ("[NOPE-9] x", (None, None)),
    ],
)
def test_focus_forms(value, expected):
    initiative, row, _ = parse_focus(value, {"TEST-PYTORCH-001", "DEMO-001"})
    assert (initiative, row) == expected


@pytest.mark.parametrize(
    "code, output, count",
    [
        (0, "tests/a.py::t1\ntests/a.py::t2\n\n2 tests collected in 0.01s\n", 2),
        (0, "tests/a.py::t1\n\n1/5 tests collected (4 deselected) in 0.01s\n", 1),
        (5, "\nno tests collected in 0.01s\n", 0),
        (5, "no tests collected (3 deselected) in 0.4s", 0),
        (0, "tests/a.py: 3\ntests/b.py: 2\n", 5),
        (0, "<Module a.py>\n  <Function t>\n\n========= collected 4 items / 1 deselected / 3 selected =====", 3),
        (4, "ERROR: not found: /w/tests/a.py::nope\n(no match in any of [<Module a.py>])\n", 0),
    ],
)
def test_collect_output_counts(code, output, count):
    result = parse_collect_output(code, output)
    assert result.count == count and result.error is None


def test_collect_errors_are_reported():
    result = parse_collect_output(2, "E   ModuleNotFoundError: No module named 'torch'\n1 error in 0.1s")
    assert result.count is None and "collection errors" in result.error and "torch" in result.error


@pytest.mark.parametrize("value", ["none — measurement loop", "N/A (docs only)", "`none`"])
def test_mapped_tests_none_forms(value):
    assert mapped_selectors(value) == ([], True)


def test_mapped_tests_without_code_spans():
    assert mapped_selectors("pytest tests/a.py -k x; pytest tests/b.py") == (["pytest tests/a.py -k x", "pytest tests/b.py"], False)


def test_mapped_tests_none_with_an_example_code_span_maps_nothing():
    from ledger.running.selector import mapped_selectors

    value = "none — row D3 has no pytest selector in its guidance (a code span like `pytest tests/x.py::test_y`)"
    assert mapped_selectors(value) == ([], True)


@pytest.mark.parametrize(
    "line,expected",
    [
        ("Do Now (hard validity contract)", ("do now", "", False)),
        ("Next Up (optional):", ("next up", "", True)),
        ("## Do Now (hard validity contract)", ("do now", "", True)),
        ("**If Blocked (read first):** stop", ("if blocked", "stop", True)),
    ],
)
def test_a_qualified_title_is_the_section_it_names(line, expected):
    assert split_key_line(line) == expected


def test_qualified_sections_are_read_as_their_sections():
    directive = parse("Summary: s\nDo Now (hard validity contract)\n- step\n\nNext Up (optional):\n1. later\n")
    assert set(directive.sections) == {"do_now", "next_up"}
    assert directive.sections["do_now"].full_text == "- step"


def test_mapped_tests_split_on_commas_but_not_inside_parametrize_ids():
    selectors, says_none = mapped_selectors("tests/a.py::t, tests/b.py::test_x[1, 2],tests/c.py::t; tests/d.py::t")
    assert not says_none
    assert selectors == ["tests/a.py::t", "tests/b.py::test_x[1, 2]", "tests/c.py::t", "tests/d.py::t"]
    assert mapped_selectors("pytest tests/a.py -k 'x, y'")[0] == ["pytest tests/a.py -k 'x, y'"]
