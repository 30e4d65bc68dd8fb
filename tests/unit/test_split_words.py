"""split_words is shlex.split: its fast path for text without quotes or backslashes agrees."""

import shlex

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.running.selector import split_words

# shlex's own specials, every kind of whitespace str.split knows (shlex splits at four of
# them only), '#' (a comment only when comments are on) and selector punctuation.
ALPHABET = st.sampled_from(list(" \t\r\n\x0b\x0c\x1c\x85\xa0\u2003'\"\\#=:-./[]{},") + ["pytest", "a", "é", "::"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=14).map("".join))
@example("pytest tests/test_x.py::test_y -q")
@example("  reports/2026-01-01T000000Z/phase_a/{pytest.log,summary.md}  ")
@example("A=1\xa0pytest")
@example("")
def test_split_words_is_shlex_split(text):
    try:
        expected = shlex.split(text)
    except ValueError:
        expected = ValueError
    try:
        got = split_words(text)
    except ValueError:
        got = ValueError
    assert got == expected
