"""Another program edits the plan and the ledger while ledger writes them: no edit is lost
(issue 11: 8 of 454 appends were lost during 300 `mark`s). ledger swaps its new content in
with one atomic rename that hands back what it replaced, checks that against what it planned
on, and plans its splice again on anything newer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ledger.editing.writes import drain_replaced, write_atomic
from ledger.errors import ConcurrentEdit
from ledger.documents.fix_plan import parse_ledger
from ledger.markdown.text import SourceText
from ledger.documents.plan import parse_plan
from ledger.workspace import Workspace
from ledger.editing.attempt import add_manual_attempt
from ledger.editing.mark import mark_row
from tests.integration.workspace_factory import make_workspace
from tests.reliability.helpers import LEDGER_FILE, PLAN_FILE

APPENDER = textwrap.dedent(
    """
    import os, sys, time
    path, stop, count = sys.argv[1], sys.argv[2], 0
    # Appends whole lines until told to stop, each with its own open/append/close, as a
    # person's editor or a loop's `echo >> plan.md` does.
    while not os.path.exists(stop) or count < 50:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)  # as `echo ... >> path` does
        os.write(fd, f"appended line {count}\\n".encode())
        os.close(fd)
        count += 1
        time.sleep(0.01)  # a steady stream (several appends per mark), not megabytes
    print(count)
    """
)


def start_appender(path: Path, stop: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", APPENDER, str(path), str(stop)], stdout=subprocess.PIPE, text=True)


def appended_lines(path: Path) -> list[int]:
    return [int(line.split()[-1]) for line in path.read_text().splitlines() if line.startswith("appended line ")]


@pytest.mark.slow
def test_every_append_survives_many_marks_and_attempts(tmp_path):
    root = make_workspace(tmp_path / "ws", git_repo=False)
    plan, ledger_path, stop = root / PLAN_FILE, root / LEDGER_FILE, tmp_path / "stop"
    ws = Workspace.open(root)
    appenders = [start_appender(plan, stop), start_appender(ledger_path, stop)]
    try:
        states = ["partial", "open", "done"]
        for i in range(90):
            mark_row(ws, "DEMO-001", "A2", states[i % 3], f"note {i}" if i % 10 == 0 else None, 10)
            if i % 3 == 0:
                add_manual_attempt(ws, "DEMO-001", f"attempt {i}", None, None, 10)
    finally:
        stop.touch()
        counts = [int(p.communicate(timeout=60)[0]) for p in appenders]
    # What `ledger` does as it exits: lines written into a file just swapped out are carried over.
    drain_replaced()
    # Every line each appender wrote is there, exactly once. (An append that lands in the
    # instant of the swap is carried over by appending it again, so it may trade places with
    # one written just after: the order is not asserted, the content is.)
    assert sorted(appended_lines(plan)) == list(range(counts[0]))
    assert sorted(appended_lines(ledger_path)) == list(range(counts[1]))
    # And every edit ledger made is there too: the last mark, and 30 attempts numbered 2..31.
    (row,) = [r for r in parse_plan(SourceText.read(plan)).rows if r.id == "A2"]
    assert row.state_token == "[x]"  # the 90th mark (i = 89) was 'done'
    numbers = [a.number for a in parse_ledger(SourceText.read(ledger_path)).attempts_for("DEMO-001")]
    assert numbers[-30:] == list(range(2, 32))


def _append_before_the_swap(monkeypatch, text: str) -> list:
    """Make another program write `text` to the file in the instant after ledger's last check."""
    import ledger.editing.writes as edit

    real_commit = edit._commit_temp
    calls = []

    def commit_after_a_foreign_write(tmp_name, target):
        if not calls:
            with open(target, "a") as handle:
                handle.write(text)
        calls.append(tmp_name)
        return real_commit(tmp_name, target)

    monkeypatch.setattr(edit, "_commit_temp", commit_after_a_foreign_write)
    return calls


def test_an_append_between_the_last_check_and_the_rename_is_kept(tmp_path, monkeypatch):
    path = tmp_path / "f.md"
    path.write_text("one\n")
    source = SourceText.read(path)
    _append_before_the_swap(monkeypatch, "theirs\n")
    write_atomic(path, "one, edited\n", source.sha256, replan=lambda text, sha: text.replace("one", "one, edited"))
    assert path.read_text() == "one, edited\ntheirs\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_change_since_the_read_is_planned_again_on_the_new_content(tmp_path):
    path = tmp_path / "f.md"
    path.write_text("one\n")
    source = SourceText.read(path)
    path.write_text("zero\none\n")  # another program, after ledger read the file
    write_atomic(path, "one, edited\n", source.sha256, replan=lambda text, sha: text.replace("one", "one, edited"))
    assert path.read_text() == "zero\none, edited\n"


def test_without_a_replan_a_change_is_refused_and_theirs_kept(tmp_path):
    path = tmp_path / "f.md"
    path.write_text("one\n")
    source = SourceText.read(path)
    path.write_text("theirs\n")
    with pytest.raises(ConcurrentEdit):
        write_atomic(path, "ours\n", source.sha256)
    assert path.read_text() == "theirs\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
