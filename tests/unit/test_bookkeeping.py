from ledger.editing.bookkeeping import _note_splice


def test_a_note_is_appended_after_a_space():
    splice = _note_splice("Run it.", 10, 17, "✅ new", None)
    assert (splice.start, splice.end, splice.text) == (17, 17, " ✅ new")


def test_the_previous_ledger_note_at_the_end_is_replaced():
    guidance = "Run it. ✅ old"
    splice = _note_splice(guidance, 10, 10 + len(guidance), "✅ new", "✅ old")
    assert (splice.start, splice.end, splice.text) == (10 + len("Run it. "), 10 + len(guidance), "✅ new")


def test_a_guidance_that_is_only_the_previous_note_is_replaced_whole():
    splice = _note_splice("✅ old", 4, 9, "✅ new", "✅ old")
    assert (splice.start, splice.end, splice.text) == (4, 9, "✅ new")


def test_a_previous_note_that_ends_a_human_word_is_not_cut():
    # "x.log" ends with "log", but "log" is not a separate run of the cell.
    splice = _note_splice("see x.log", 0, 9, "✅ new", "log")
    assert (splice.start, splice.end, splice.text) == (9, 9, " ✅ new")
