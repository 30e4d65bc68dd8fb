from ledger.markdown.table import escape_cell_text, is_delimiter_row, split_cells


def texts(line):
    return [c.text for c in split_cells(line)]


def test_plain_row():
    assert texts("| A1 | Do it | [x] | ok |") == ["A1", "Do it", "[x]", "ok"]


def test_escaped_pipe_stays_in_cell():
    assert texts(r"| A1 | a \| b | [ ] | g |") == ["A1", r"a \| b", "[ ]", "g"]


def test_pipe_inside_code_span_stays_in_cell():
    assert texts("| A1 | run `grep -E 'a|b'` now | [ ] | g |") == ["A1", "run `grep -E 'a|b'` now", "[ ]", "g"]


def test_double_backtick_span_with_single_backtick_inside():
    assert texts("| A1 | ``a ` | b`` | [ ] |") == ["A1", "``a ` | b``", "[ ]"]


def test_unclosed_backtick_does_not_swallow_pipes():
    assert texts("| A1 | it`s | [x] | g |") == ["A1", "it`s", "[x]", "g"]


def test_row_without_trailing_pipe():
    assert texts("| F4 | Sync | [ ] | Execute the checklist") == ["F4", "Sync", "[ ]", "Execute the checklist"]


def test_not_a_row():
    assert split_cells("plain text | with pipe") is None
    assert split_cells("- [x] A1: item") is None


def test_spans_point_at_the_raw_cell():
    line = "| A1 |  two  |"
    cells = split_cells(line)
    assert line[cells[1].start:cells[1].end] == "  two  "
    assert line[cells[1].content_start:cells[1].content_end] == "two"


def test_delimiter_rows():
    assert is_delimiter_row(split_cells("| --- | :-- | ---: | :-: |"))
    assert not is_delimiter_row(split_cells("| A1 | --- |"))


def test_escape_cell_text_keeps_text_in_one_cell():
    escaped = escape_cell_text("a | b\nc \\| d `e|f` `odd")
    cells = split_cells(f"| x | {escaped} |")
    assert len(cells) == 2
    assert "\n" not in escaped


def test_escape_does_not_double_escape():
    assert escape_cell_text(r"a \| b") == r"a \| b"
    assert escape_cell_text("a | b") == r"a \| b"


def test_cell_value_reads_an_escaped_pipe_as_gfm_shows_it():
    cells = split_cells(r"| F-001 | call `a \| b` before \| loading | x |")
    assert cells[1].text == r"call `a \| b` before \| loading"
    assert cells[1].value == "call `a | b` before | loading"
