"""Every read-only command over the real-world corpus workspace, with and without
--json: no traceback, an exit code the command documents, valid JSON, and the
workspace byte-identical afterwards."""

from __future__ import annotations

import functools
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from ledger.cli import main

from tests.conftest import LEDGER_BIN, snapshot


def run(root, *args, cwd=None):
    return subprocess.run([str(LEDGER_BIN), *args, "--root", str(root)], capture_output=True, text=True, timeout=120, cwd=cwd or root)


@functools.lru_cache(maxsize=None)
def help_text(*command: str) -> str:
    """`ledger [COMMAND] --help`, in-process: the same text the executable prints, without an
    interpreter start per command (the commands themselves run as real processes below)."""
    result = CliRunner().invoke(main, [*command, "--help"], prog_name="ledger")
    assert result.exit_code == 0, result.output
    return result.stdout


def registered() -> set[str]:
    commands = help_text().split("Commands:", 1)[1]
    return {m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]*)\s", commands, re.MULTILINE)}


def documented_exit_codes(command: str) -> set[int] | None:
    """The codes a command's --help lists under `Exit codes:` (None if it lists none)."""
    text = help_text(command)
    if "Exit codes:" not in text:
        return None
    paragraph = text.split("Exit codes:", 1)[1].split("\n\n", 1)[0]
    return {int(n) for n in re.findall(r"(?<![\w.])(\d{1,3})(?![\w.])", paragraph)}


# What each command may exit with on this corpus (it cites unknown finding ids, audit
# finds claimed rows, and its selectors' test files are not in it: those report 1).
EXPECTED = {
    "status": {0}, "show": {0}, "selectors": {0, 1}, "findings": {0, 1}, "check-input": {0, 1},
    "brief": {0}, "html": {0}, "audit": {0, 1}, "profile": {0},
}


def test_read_only_commands_leave_the_corpus_untouched(corpus_workspace, tmp_path):
    root = corpus_workspace
    before = snapshot(root)
    available = registered()
    status = run(root, "status", "--json")
    assert status.returncode == 0, status.stderr
    initiatives = {item["initiative"]: [row["ref"] for phase in item["phases"] for row in phase["rows"]]
                   for item in json.loads(status.stdout)["initiatives"]}
    assert {"TEST-PYTORCH-001", "INTEGRATE-PYTORCH-001", "ADR-003-BACKEND-API", "DEBUG-SIM-LINES-DOSE-001"} <= set(initiatives)
    assert sum(map(len, initiatives.values())) >= 60

    invocations: list[tuple[str, ...]] = [
        ("status",), ("selectors",), ("findings",), ("check-input", "input.md", "--no-collect"), ("check-input", "input.md"),
        # Collection runs pytest inside the workspace: it must not leave a cache behind.
        ("selectors", "TEST-PYTORCH-001", "--collect", "--timeout", "60"),
        ("html", "-o", str(tmp_path / "site")),
    ]
    if "audit" in available:
        invocations.append(("audit",))
    for index, (initiative, rows) in enumerate(initiatives.items()):
        invocations.append(("status", initiative))
        if index == 0:
            invocations.append(("selectors", initiative))
            if "audit" in available:
                invocations.append(("audit", initiative))
        dotted = [r for r in rows if "." in r][:1]
        invocations += [("show", initiative, row) for row in dict.fromkeys(rows[:1] + dotted + rows[-1:])]
        invocations.append(("brief", initiative, rows[-1]))
        if "profile" in available:
            invocations.append(("profile", initiative, rows[0], "--no-write"))
    invocations += [(*args[:-2], "-o", str(tmp_path / "site-json")) if args[0] == "html" else args for args in invocations]
    # Each command twice: as is, and with --json.
    jobs = [args for args in dict.fromkeys(invocations)]
    # (collection runs pytest per selector: once, with --json, is enough)
    jobs = [args for args in jobs if "--collect" not in args] + [(*args, "--json") for args in jobs]
    codes = {name: documented_exit_codes(name) for name in {args[0] for args in jobs}}

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda args: (args, run(root, *args)), jobs))

    for args, result in results:
        name = args[0]
        where = f"ledger {' '.join(args)}: rc={result.returncode}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stdout + result.stderr, where
        assert result.returncode in EXPECTED[name], where
        if codes[name] is not None:
            assert result.returncode in codes[name], where
        if "--json" in args:
            json.loads(result.stdout)
        else:
            assert result.stdout.strip(), where
    assert len(results) >= 50
    assert snapshot(root) == before, "a read-only command changed the workspace"


def test_corpus_plans_parse_without_losing_rows(corpus_workspace):
    """Each corpus plan's table rows with a state cell are all read (none silently dropped)."""
    root = corpus_workspace
    data = json.loads(run(root, "status", "--json").stdout)
    total = 0
    for item in data["initiatives"]:
        for plan in item["plans"]:
            text = (root / plan).read_text(encoding="utf-8")
            stated = [line for line in text.splitlines() if re.match(r"^\|\s*\**[A-Z]\d*[\w.-]*\**\s*\|.*\|\s*`?\[[ xXDP~-]?\]`?\s*\|", line)]
            rows = [r for phase in item["phases"] for r in phase["rows"] if r["file"] == plan and r["kind"] == "table"]
            assert len(rows) >= len(stated), (plan, len(rows), len(stated))
            total += len(stated)
    assert total >= 40  # the heuristic does see the corpus tables


def test_a_reader_that_goes_away_stops_the_command_quietly(corpus_workspace):
    """`ledger audit --json | true`: no traceback, no error line, the shell's 141."""
    if "audit" not in registered():
        pytest.skip("audit is not registered in this build")
    proc = subprocess.Popen([str(LEDGER_BIN), "audit", "--json", "--root", str(corpus_workspace)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # gone before the command writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""
