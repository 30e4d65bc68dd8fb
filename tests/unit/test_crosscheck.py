"""The audit's cross-checks: pytest summary lines, times, and one git call for every commit."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

from ledger.reading.audit.crosscheck import CrossChecker, parse_time
from ledger.running.evidence import seal_manifest
from ledger.reading.audit.integrity import check_seal
from tests.conftest import git


def test_parse_time_takes_manifest_and_folder_forms():
    assert parse_time("2026-11-24T09:54:41Z") == parse_time("2026-11-24T095441Z") == datetime(2026, 11, 24, 9, 54, 41, tzinfo=timezone.utc)
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_seal_catches_a_one_word_edit():
    sealed = seal_manifest({"row": "A1", "outcome": "failed", "files": {}})
    assert check_seal(sealed, {}) == (None, None)
    edited = {**sealed, "outcome": "passed"}
    problem, _ = check_seal(edited, {})
    assert "edited after it was written" in problem


class _Check:
    def __init__(self, sha):
        self.manifest = {"git_commit": sha}


def test_every_commit_is_looked_up_in_one_git_call(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-q", "-m", "one")
    head = git(tmp_path, "rev-parse", "HEAD").strip()
    missing = "0" * 40
    calls = []
    real_run = subprocess.run

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting)
    checker = CrossChecker(tmp_path)
    checker.want_commits([_Check(head), _Check(missing), _Check("not a sha")])
    usable, when = checker.commit_time(head)
    assert usable and isinstance(when, int)
    assert checker.commit_time(missing) == (True, None)
    assert len(calls) == 1 and calls[0][:2] == ["git", "cat-file"]


def test_outside_a_repository_commits_are_not_judged(tmp_path):
    checker = CrossChecker(tmp_path)
    assert checker.commit_time("a" * 40) == (False, None)


def test_parse_time_refuses_impossible_and_mixed_forms():
    assert parse_time("2026-13-24T095441Z") is None and parse_time("2026-11-24T09:5441Z") is None


from hypothesis import given, settings, strategies as st  # noqa: E402

from ledger.reading.audit.crosscheck import _first_selector_is  # noqa: E402
from ledger.running.selector import find_selectors  # noqa: E402

_PIECES = st.sampled_from(["Run ", "`pytest a.py -q`", "`pytest b.py`", "`x`", "`a.py::t`", "``", "`", "\\`", " then ", "pytest", "::", "`reports/x/`"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=8), st.sampled_from(["pytest a.py -q", "pytest b.py", "x", "a.py::t"]))
def test_fast_first_selector_agrees_with_find_selectors(pieces, recorded):
    text = "".join(pieces)
    if _first_selector_is(text, recorded):
        assert find_selectors(text)[:1] == [recorded]
