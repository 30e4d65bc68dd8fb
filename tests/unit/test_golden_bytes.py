"""Golden bytes: every plan and ledger layout ledger edits, before and after each edit.

Each folder under tests/data/golden/ is one layout (see its README.md): `input/` is a small
workspace, `case.toml` lists the edits made to it, and `expected/<edit>/` holds the exact bytes
of every file that edit changes. An edit runs on a fresh copy of `input/` through the code the
commands run:

- `mark`: the real `ledger mark` command (in-process, Click's runner);
- `attempt_add`: the real `ledger attempt add` command;
- `do_note`: the note `ledger do` writes into the row when it records a run, rendered from
  `guidance_note.md.j2` and put in place of the note of the row's previous run, through
  `change_row` (what `ledger do` calls);
- `do_attempt`: the attempt `ledger do` appends (`attempt.md.j2`/`attempt_global.md.j2`)
  through `add_attempt` with the arguments `ledger do` passes;
- `do`: the real `ledger do` command, pytest and all (the do_end_to_end case); only the
  measured duration is fixed. An edit may then change several files (`[[edits.files]]`) and
  create its evidence folders (`creates_under`).

The clock and the random entry id are fixed (FIXED_NOW, FIXED_TOKEN, see frozen_clock) so the
bytes are stable.
The project's own data only: these tests never skip in a clean clone (no ../shared/corpus).

Two checks per edit: the files are byte-identical to `expected/` (every other file untouched),
and `expected/` differs from `input/` only in the lines `case.toml` says the edit changes or
inserts: a golden file recorded by mistake with a wider change cannot pass.

LEDGER_GOLDEN_UPDATE=1 writes what the edits produce into `expected/` instead of comparing
(never on by default; read the diff before committing it: tests/data/golden/README.md).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
CASES = sorted(p.parent.name for p in GOLDEN.glob("*/case.toml"))
UPDATE = os.environ.get("LEDGER_GOLDEN_UPDATE") == "1"

FIXED_NOW = datetime(2026, 11, 24, 10, 7, 30, tzinfo=UTC)
FIXED_TOKEN = "0a1b2c"
# Files a command may leave in a workspace that are not part of it (no git directory here,
# so the workspace lock lives at the root).
NOT_WORKSPACE_FILES = {".ledger.lock"}


def _edits() -> list:
    params = []
    for case in CASES:
        spec = tomllib.loads((GOLDEN / case / "case.toml").read_text(encoding="utf-8"))
        for edit in spec["edits"]:
            params.append(pytest.param(case, spec, edit, id=f"{case}-{edit['name']}"))
    return params


def test_the_golden_cases_are_there():
    """A clean clone holds them: this suite never depends on ../shared."""
    assert len(CASES) >= 10
    for case in CASES:
        assert (GOLDEN / case / "input").is_dir(), case
        assert (GOLDEN / case / "expected").is_dir() or UPDATE, case


def _ledger_modules() -> list:
    """Every module of the package, imported: commands import theirs lazily, and a clock
    bound in a module imported after the freeze would not be frozen."""
    import ledger

    for info in pkgutil.walk_packages(ledger.__path__, "ledger."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    return [
        module
        for name, module in sys.modules.items()
        if name == "ledger" or name.startswith("ledger.")
    ]


@pytest.fixture
def frozen_clock(monkeypatch):
    """One fixed moment for every clock the edits read, and a fixed entry id, wherever the
    package binds them (`datetime`, `utc_now`, `entry_token` in any module): modules move,
    names stay. Checks that each was found, so a renamed clock fails here, not by chance."""

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return FIXED_NOW if tz is not None else FIXED_NOW.replace(tzinfo=None)

    patched = {"datetime": 0, "utc_now": 0, "entry_token": 0}
    for module in _ledger_modules():
        if getattr(module, "datetime", None) is datetime:
            monkeypatch.setattr(module, "datetime", FixedDatetime)
            patched["datetime"] += 1
        if callable(getattr(module, "utc_now", None)):
            monkeypatch.setattr(module, "utc_now", lambda: FIXED_NOW)
            patched["utc_now"] += 1
        if callable(getattr(module, "entry_token", None)):
            monkeypatch.setattr(module, "entry_token", lambda: FIXED_TOKEN)
            patched["entry_token"] += 1
    assert all(patched.values()), f"a clock or id the edits use was not found: {patched}"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in NOT_WORKSPACE_FILES
    }


def _cli(root: Path, *args: str, exit_code: int = 0) -> None:
    from ledger.cli import main

    result = CliRunner().invoke(main, [*args, "--root", str(root)], catch_exceptions=False)
    assert result.exit_code == exit_code, result.output


def _do_context(initiative: str, row, where: str, edit: dict) -> dict:
    """The template context `ledger do` builds for a run (running/do.py `_template_context`),
    with fixed values where a real run has measured ones."""
    from ledger.running.outcome import Outcome

    outcome = edit.get("outcome", "passed")
    passed = outcome == "passed"
    return {
        "date": FIXED_NOW.strftime("%Y-%m-%d"),
        "timestamp": FIXED_NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timestamp_minutes": FIXED_NOW.strftime("%Y-%m-%dT%H:%MZ"),
        "entry_token": FIXED_TOKEN,
        "initiative": initiative,
        "row": row.ref,  # as ledger do passes it (running/record.template_context)
        "row_label": row.label,
        "description": row.description,
        "selector": edit.get("selector", "pytest tests/test_gold.py::test_ok -q"),
        "selector_source": where,  # the row's own selector: its file and line
        "selector_overridden": False,
        "expect": "pass",
        "outcome": outcome,
        "outcome_title": Outcome(outcome).heading,
        "reason": None if passed else edit.get("reason", "1 failed: tests/test_gold.py::test_bad"),
        "counts": {"passed": 2} if passed else {"passed": 1, "failed": 1},
        "counts_text": "2 passed" if passed else "1 passed, 1 failed",
        "duration_s": 0.42,
        "commit": "1234567890ab",
        "dirty": False,
        "artifacts": edit["artifacts"],
        "artifacts_from_initiative": edit["artifacts_from_initiative"],
        "guardrail": None,
    }


def _run_edit(root: Path, initiative: str, edit: dict) -> None:
    kind = edit["kind"]
    if kind == "mark":
        _cli(
            root,
            "mark",
            initiative,
            edit["row"],
            edit["state"],
            *(["--note", edit["note"]] if "note" in edit else []),
        )
    elif kind == "attempt_add":
        args = ["attempt", "add", initiative, "--summary", edit["summary"]]
        for option in ("row", "artifacts"):
            if option in edit:
                args += [f"--{option}", edit[option]]
        _cli(root, *args)
    elif kind == "do":
        for _ in range(edit.get("runs", 1)):
            _cli(root, "do", initiative, edit["row"], exit_code=edit.get("exit_code", 0))
    elif kind in ("do_note", "do_attempt"):
        from ledger.documents.states import RowState
        from ledger.editing.bookkeeping import add_attempt, change_row
        from ledger.markdown.table import escape_cell_text
        from ledger.render import Renderer
        from ledger.workspace import Workspace

        ws = Workspace.open(root)
        row = ws.find_row(initiative, edit["row"])
        context = _do_context(initiative, row, f"{ws.relative(row.path)}:{row.line}", edit)
        renderer = Renderer(ws.templates_dir)
        if kind == "do_note":
            note = renderer.render("guidance_note.md.j2", **context).strip()
            state = RowState(edit.get("state", "done"))
            change = change_row(ws, row, state, note, replacing=edit.get("replacing"))
            # As written: escaped for a table cell (`|`, unpaired backticks), else as rendered.
            assert change.note == (escape_cell_text(note) if row.kind == "table" else note)
        else:
            add_attempt(
                ws,
                initiative,
                lambda number, layout, style: renderer.render_lines(
                    "attempt_global.md.j2" if layout == "global" else "attempt.md.j2",
                    **context,
                    **style,
                    number=number,
                ),
                item_title=edit.get("item_title"),
                fall_back=True,
            )
    else:
        raise AssertionError(f"unknown edit kind {kind!r}")


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)  # bytes split on \n, \r\n and \r only


def _check_intended(before: bytes, after: bytes, edit: dict, path: str) -> None:
    """`after` is `before` with exactly the declared lines changed (1-based lines of `before`)
    and the declared block inserted (after line `inserted_after` of `before`)."""
    old, new = _lines(before), _lines(after)
    count = edit.get("inserted_count", 0)
    if count:
        at = edit["inserted_after"]
        new = new[:at] + new[at + count :]
    assert len(new) == len(old), f"{path}: line count differs beyond the declared insertion"
    changed = [number for number, (a, b) in enumerate(zip(old, new, strict=True), 1) if a != b]
    assert changed == edit.get("changed_lines", []), f"{path}: changed lines {changed}"
    if "token_before" in edit:
        (number,) = edit["changed_lines"]
        line = old[number - 1].decode("utf-8")
        assert new[number - 1].decode("utf-8") == line.replace(
            edit["token_before"], edit["token_after"], 1
        )


def _targets(edit: dict) -> list[dict]:
    """The files an edit changes, each with its declared lines: `[[edits.files]]` tables, or
    the edit's own `file`/`changed_lines`/… keys when it changes one file."""
    return edit.get("files") or [edit]


@pytest.fixture
def fixed_run_duration(monkeypatch):
    """`ledger do` runs pytest for real; only the measured duration, which the note and the
    attempt print, is fixed (0.42 s)."""
    import dataclasses

    import ledger.running.runner as runner

    real = runner.run_streaming
    monkeypatch.setattr(
        runner,
        "run_streaming",
        lambda request, echo: dataclasses.replace(real(request, echo), duration_s=0.42),
    )


@pytest.mark.parametrize("case,spec,edit", _edits())
def test_edit_bytes_match_the_golden_file(
    tmp_path, monkeypatch, frozen_clock, fixed_run_duration, case, spec, edit
):
    # No git repository above the temp folder may lend the run a commit (the attempt prints it).
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    source = GOLDEN / case / "input"
    root = tmp_path / case
    shutil.copytree(source, root)
    before = _snapshot(root)

    _run_edit(root, spec["initiative"], edit)

    after = _snapshot(root)
    assert set(before) <= set(after), "no file is removed"
    # Only `ledger do` creates files: its evidence folders (and pytest's cache of the run).
    created = sorted(set(after) - set(before))
    allowed = tuple(edit.get("creates_under", []))
    assert all(path.startswith(allowed) for path in created) if allowed else not created, (
        f"files created: {created}"
    )
    targets = {target["file"]: target for target in _targets(edit)}
    changed = {path for path in before if after[path] != before[path]}
    assert changed == set(targets), f"only {sorted(targets)} change (changed: {sorted(changed)})"
    expected_dir = GOLDEN / case / "expected" / edit["name"]
    if UPDATE:
        if expected_dir.exists():
            shutil.rmtree(expected_dir)
        for path in targets:
            (expected_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / path).write_bytes(after[path])
    expected = {
        p.relative_to(expected_dir).as_posix(): p.read_bytes()
        for p in expected_dir.rglob("*")
        if p.is_file()
    }
    assert set(expected) == set(targets), (
        f"expected/{edit['name']} holds exactly the files the edit changes"
    )
    for path, target in targets.items():
        assert after[path] == expected[path], f"{path} differs from expected/{edit['name']}"
        _check_intended(before[path], expected[path], target, path)


def _read_only_invocations(initiative: str, rows: list[str], site: Path) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = [
        ("status",),
        ("status", initiative),
        ("selectors",),
        ("findings",),
        ("audit",),
        ("next", initiative),
        ("html", "-o", str(site)),
    ]
    for row in rows:
        calls += [
            ("show", initiative, row),
            ("brief", initiative, row),
            ("profile", initiative, row, "--no-write"),
        ]
    return calls + [(*args, "--json") for args in calls if args[0] != "html"]


# What each read-only command may exit with on these small workspaces: audit reports claimed
# rows, selectors and findings report what they cannot resolve, next has nothing left to give.
READ_ONLY_EXIT_CODES = {"audit": {0, 1}, "selectors": {0, 1}, "findings": {0, 1}, "next": {0, 1}}


@pytest.mark.parametrize("case", CASES)
def test_read_only_commands_leave_every_layout_byte_identical(tmp_path, case):
    """The in-project twin of tests/corpus/test_corpus_readonly.py: every read-only command over
    each golden workspace, with and without --json, changes no byte of it."""
    from ledger.cli import main

    spec = tomllib.loads((GOLDEN / case / "case.toml").read_text(encoding="utf-8"))
    root = tmp_path / case
    shutil.copytree(GOLDEN / case / "input", root)
    before = _snapshot(root)
    rows = list(dict.fromkeys(edit["row"] for edit in spec["edits"]))
    for args in _read_only_invocations(spec["initiative"], rows, tmp_path / "site"):
        result = CliRunner().invoke(main, [*args, "--root", str(root)])
        where = f"ledger {' '.join(args)}: exit {result.exit_code}\n{result.output[-2000:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), where
        assert result.exit_code in READ_ONLY_EXIT_CODES.get(args[0], {0}), where
    assert _snapshot(root) == before, "a read-only command changed the workspace"
