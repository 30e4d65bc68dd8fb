"""Evidence citations as agents write them (shapes quoted from the real corpus in ../shared/corpus)."""

import os
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents.citations import _locate, citation_bases, expand_braces, find_citations, is_inside, is_placeholder, resolve


def test_brace_expansion_multiplies_left_to_right():
    assert expand_braces("reports/2025-10-17T{193400Z,195624Z}/{summary.md, pytest.log}") == [
        "reports/2025-10-17T193400Z/summary.md",
        "reports/2025-10-17T193400Z/pytest.log",
        "reports/2025-10-17T195624Z/summary.md",
        "reports/2025-10-17T195624Z/pytest.log",
    ]
    assert expand_braces("no/braces") == ["no/braces"]
    assert len(expand_braces("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}")) == 64  # capped


def test_placeholders_are_not_paths():
    for text in ("reports/<TS>/phase_b/", "reports/<execution-ts>/", "reports/{TS}/x.md", "reports/YYYY-MM-DDTHHMMSSZ/x", "reports/…/x"):
        assert is_placeholder(text), text
    assert not is_placeholder("reports/2025-10-19T193425Z/phase_d_hardening/summary.md")


def test_find_citations_in_prose_and_code_spans():
    text = (
        "Done; see `reports/2025-10-19T201900Z/phase_d_hardening/{doc_alignment_notes.md,summary.md}`.\n"
        "Logs: plans/active/TEST-PYTORCH-001/reports/2025-10-19T193425Z/phase_d_hardening/, and `reports/<TS>/baseline/`.\n"
        "The reports/ folder and plans/active/X/reports/* are not evidence.\n"
    )
    found = find_citations(text, first_line=10)
    assert [(c.line, c.placeholder) for c in found] == [(10, False), (11, False), (11, True)]
    assert found[0].paths == (
        "reports/2025-10-19T201900Z/phase_d_hardening/doc_alignment_notes.md",
        "reports/2025-10-19T201900Z/phase_d_hardening/summary.md",
    )
    assert found[1].text == "plans/active/TEST-PYTORCH-001/reports/2025-10-19T193425Z/phase_d_hardening/"


def test_resolution_relative_to_initiative_and_root(tmp_path):
    initiative = tmp_path / "plans/active/X"
    hub = initiative / "reports/2025-01-01T000000Z/phase_a"
    hub.mkdir(parents=True)
    (hub / "summary.md").write_text("x")
    (hub / "a.log").write_text("x")
    bases = citation_bases(tmp_path, initiative, initiative / "reports")
    (relative,) = find_citations("`reports/2025-01-01T000000Z/phase_a/{summary.md,gone.md}`")
    resolution = resolve(relative, tmp_path, bases)
    assert resolution.existing == [hub / "summary.md"] and resolution.missing == ["reports/2025-01-01T000000Z/phase_a/gone.md"]
    (rooted,) = find_citations("plans/active/X/reports/2025-01-01T000000Z/phase_a/*.log")
    assert resolve(rooted, tmp_path, bases).existing == [hub / "a.log"]
    (escape,) = find_citations("../../etc/reports/2025-01-01T000000Z/")
    assert not resolve(escape, tmp_path, bases).existing


def test_symlink_out_of_the_workspace_is_outside(tmp_path):
    outside = tmp_path / "outside"
    (outside / "2025-01-01T000000Z").mkdir(parents=True)
    root = tmp_path / "ws"
    (root / "plans/active/X").mkdir(parents=True)
    (root / "plans/active/X/reports").symlink_to(outside)
    bases = citation_bases(root, root / "plans/active/X", root / "plans/active/X/reports")
    (citation,) = find_citations("reports/2025-01-01T000000Z/")
    resolution = resolve(citation, root, bases)
    assert not resolution.existing and resolution.outside == ["reports/2025-01-01T000000Z/"]


def test_a_citation_climbing_out_with_dotdot_is_outside_not_existing(tmp_path):
    root = tmp_path / "ws"
    (root / "plans/active/X/reports").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("not evidence")
    kind, found = _locate("reports/../../../../../secret.txt", root, [root / "plans/active/X"])
    assert (kind, found) == ("outside", None)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "..", ".", "out", "in"]), min_size=1, max_size=7))
def test_is_inside_agrees_with_realpath(tmp_path_factory, parts):
    base = tmp_path_factory.getbasetemp() / "inside_tree"
    root = base / "ws"
    if not root.exists():
        (root / "a/b").mkdir(parents=True)
        (base / "elsewhere").mkdir()
        (root / "a/out").symlink_to(base / "elsewhere")  # a link that leaves the workspace
        (root / "a/in").symlink_to(root / "a/b")  # one that stays inside
    path = os.path.join(root, "a", *parts)
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    assert is_inside(root, path) == (real == real_root or real.startswith(real_root + os.sep))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "..", ".", "out", "in", "f.txt", "dangling", "outfile", "x"]), min_size=1, max_size=6))
def test_plain_lookup_agrees_with_exists_and_realpath(tmp_path_factory, parts):
    """_plain_inside answers with one lstat what os.path.exists and is_inside answered."""
    from ledger.documents.citations import _plain_inside

    base = tmp_path_factory.getbasetemp() / "plain_tree"
    root = base / "ws"
    if not root.exists():
        (root / "a/b").mkdir(parents=True)
        (root / "a/b/f.txt").write_text("evidence")
        (base / "elsewhere").mkdir()
        (base / "elsewhere/outfile").write_text("not evidence")
        (root / "a/out").symlink_to(base / "elsewhere")
        (root / "a/in").symlink_to(root / "a/b")
        (root / "a/b/dangling").symlink_to(root / "nowhere")
        (root / "a/b/outfile").symlink_to(base / "elsewhere/outfile")
    path = os.path.join(root, "a", *parts)
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    expected = (real == real_root or real.startswith(real_root + os.sep)) if os.path.exists(path) else None
    assert _plain_inside(root, path) == expected


# The citation pattern before its segments were possessive: the reference the faster one must agree with.
_BACKTRACKING_SEGMENT = r"(?:\{[^{}\n]*\}|<[^<>\n]*>|[\w.\-*…])+"
_BACKTRACKING_CITATION = re.compile(
    rf"(?<![\w/.\-<>{{}}*])((?:{_BACKTRACKING_SEGMENT}/)*reports/(?:{_BACKTRACKING_SEGMENT}(?:/{_BACKTRACKING_SEGMENT})*/?)?)"
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["reports/", "reports", "/", "a", "b1", ".", "-", "*", "…", "{", "}", ",", "<", ">",
                                 " ", "\n", "{x,y}", "<TS>", "`", ":", "é", "_"]), max_size=14))
def test_possessive_citation_pattern_matches_as_the_backtracking_one(pieces):
    from ledger.documents.citations import _CITATION

    text = "".join(pieces)
    for start in range(len(text) + 1):
        fast, reference = _CITATION.match(text, start), _BACKTRACKING_CITATION.match(text, start)
        assert (fast and fast.span(1)) == (reference and reference.span(1))
    fast, reference = _CITATION.search(text), _BACKTRACKING_CITATION.search(text)
    assert (fast and fast.span(1)) == (reference and reference.span(1))
