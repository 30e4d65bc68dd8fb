"""Every command over a copy of the real exported tree `dose_experiments-37f759f` (public data
written by a real two-agent loop in hoidn/PtychoPINN; ../shared/corpus/workspaces, read only).

The expected answers are counted from the files here, independently of ledger's parsers, with
plain regexes: the rows each file holds and their states, the history entries naming each
row (13 of the 40 stand after the ledger's `## TODOs` heading, where the loop appends them),
the report folders the text cites."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.realworld.conftest import copy_real_workspace

NAME = "dose_experiments-37f759f"
DOSE = "DEBUG-SIM-LINES-DOSE-001"
LEDGER = "docs/fix_plan.md"
PLAN_ITEM = re.compile(r"^- \[(?P<token>.)\] (?P<id>[A-Z]\d+): ", re.M)
LEDGER_ITEM = re.compile(r"^- \[(?P<token>.)\] (?:(?P<initiative>[A-Za-z0-9-]+)\.)?(?P<id>[A-Z]\d+): ", re.M)
ENTRY = re.compile(r"^### (?P<when>\d{4}-\d\d-\d\dT\d\d:\d\dZ) — (?P<subject>\S+)(?: (?P<rows>\S+))? \(", re.M)
STATE = {"x": "done", " ": "open"}


def ledger(root: Path, *args: str):
    """The real CLI in-process (CliRunner), never catching its exceptions: a crash fails here."""
    return CliRunner().invoke(main, [*args, "--root", str(root)], catch_exceptions=False)


def json_of(result) -> dict:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """One copy for the commands that only read."""
    return copy_real_workspace(NAME, tmp_path_factory.mktemp("dose_ro"))


@pytest.fixture
def fresh(real_workspace) -> Path:
    """A copy of its own for a command that writes."""
    return real_workspace(NAME)


# ---------------------------------------------------------------- independent counts


def entries(text: str) -> list[dict]:
    """Every history entry heading, wherever it stands, with the rows it names."""
    found = []
    for match in ENTRY.finditer(text):
        subject, rows = match.group("subject"), match.group("rows") or ""
        initiative, _, dotted = subject.partition(".")
        names = re.split(r"[/–-]", dotted or rows)
        found.append(
            {
                "line": text[: match.start()].count("\n") + 1,
                "when": match.group("when"),
                "initiative": initiative,
                "rows": {n for n in names if re.fullmatch(r"[A-Z]\d+", n)},
                "heading": match.group(0).rstrip(" ("),
            }
        )
    return found


def expected_rows(root: Path) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """initiative -> file -> [(row id, state)] as the files write them: plan checklists, then
    the ledger's `<initiative>.<row>:` items for rows the plan does not have."""
    ledger_text = (root / LEDGER).read_text()
    expected: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for plan in sorted(root.glob("plans/active/*/implementation.md")):
        initiative = plan.parent.name
        rows = [(m.group("id"), STATE[m.group("token")]) for m in PLAN_ITEM.finditer(plan.read_text())]
        expected[initiative] = {plan.relative_to(root).as_posix(): rows}
        own = {row for row, _ in rows}
        extra = [(m.group("id"), STATE[m.group("token")]) for m in LEDGER_ITEM.finditer(ledger_text)
                 if m.group("initiative") == initiative and m.group("id") not in own]
        if extra:
            expected[initiative][LEDGER] = extra
    return expected


def test_the_tree_is_the_one_the_issue_describes(tree):
    text = (tree / LEDGER).read_text()
    found = entries(text)
    todos = text.index("\n## TODOs\n")
    assert len(found) == 40
    assert sum(1 for e in found if text.count("\n", 0, todos) + 1 < e["line"]) == 13


# ---------------------------------------------------------------- status, show


def test_status_lists_every_row_per_file_with_its_state(tree):
    data = json_of(ledger(tree, "status", "--json"))
    got: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for item in data["initiatives"]:
        for phase in item["phases"]:
            got.setdefault(item["initiative"], {}).setdefault(phase["file"], []).extend(
                (row["id"], row["state"]) for row in phase["rows"]
            )
    expected = expected_rows(tree)
    assert got == expected
    # What that means on this tree: F1, the loop's open work, is a row (the plan has no F1).
    assert expected[DOSE][LEDGER] == [("D1", "done"), ("E1", "done"), ("F1", "open")]
    dose = next(item for item in data["initiatives"] if item["initiative"] == DOSE)
    assert dose["counts"]["rows"] == 9 and dose["counts"]["open"] == 1


def test_every_rows_reference_round_trips_through_show(tree):
    data = json_of(ledger(tree, "status", "--json"))
    checked = 0
    for item in data["initiatives"]:
        for phase in item["phases"]:
            for row in phase["rows"]:
                reference = row.get("ref") or row["id"]
                shown = json_of(ledger(tree, "show", item["initiative"], reference, "--json"))
                assert (shown["row"]["file"], shown["row"]["line"], shown["row"]["id"]) == (row["file"], row["line"], row["id"])
                checked += 1
    assert checked == 13


def test_show_sees_every_history_entry_naming_the_row_in_time_order(tree):
    found = entries((tree / LEDGER).read_text())
    for initiative, files in expected_rows(tree).items():
        for rows in files.values():
            for row_id, _ in rows:
                shown = json_of(ledger(tree, "show", initiative, row_id, "--json"))
                naming = [e for e in found if e["initiative"] == initiative and row_id in e["rows"]]
                listed = {a["line"] for a in shown["attempts"]}
                assert {e["line"] for e in naming} <= listed, (initiative, row_id)
                dates = [a["date"] for a in shown["attempts"]]
                assert dates == sorted(dates)
    f1 = json_of(ledger(tree, "show", DOSE, "F1", "--json"))
    named_f1 = [e for e in found if e["initiative"] == DOSE and "F1" in e["rows"]]
    assert len(named_f1) == 27
    assert [a["line"] for a in f1["attempts"] if f"{DOSE}.F1 " in a["text"]] == [
        e["line"] for e in sorted(named_f1, key=lambda e: e["when"])
    ]


# ---------------------------------------------------------------- html, brief


def test_html_counts_and_orders_every_entry(tree, tmp_path):
    result = ledger(tree, "html", "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    found = entries((tree / LEDGER).read_text())
    index = (tmp_path / "site/index.html").read_text()
    for initiative in (DOSE, "seed"):
        count = sum(1 for e in found if e["initiative"] == initiative)
        assert f"{count} attempts" in index
        page = (tmp_path / f"site/initiative/{initiative}.html").read_text()
        lines = [int(n) for n in re.findall(r'id="attempt-(\d+)"', page)]
        when = {e["line"]: e["when"] for e in found}
        assert sorted(lines) == sorted(e["line"] for e in found if e["initiative"] == initiative)
        assert [when[n] for n in lines] == sorted(when[n] for n in lines)
    assert "35 attempts" in index and "5 attempts" in index


def test_brief_for_f1_shows_the_newest_attempts_by_time(tree):
    data = json_of(ledger(tree, "brief", DOSE, "F1", "--json"))
    found = sorted((e for e in entries((tree / LEDGER).read_text()) if e["initiative"] == DOSE), key=lambda e: e["when"])
    shown = data["context"]["attempts"]
    assert [a["line"] for a in shown] == [e["line"] for e in found[-len(shown):]]
    assert shown[-1]["date"] == "2026-01-23T11:35Z"  # written at line 892, after ## TODOs
    assert "F1" in data["text"] and "tests/tools/test_check_inbox_for_ack_cli.py" in data["text"]


# ---------------------------------------------------------------- audit


def test_audit_calls_orphans_only_folders_nothing_cites(tree):
    data = json_of(ledger(tree, "audit", "--json"))
    orphans = {i["message"].split(" ", 1)[0].rstrip("/") for i in data["issues"] if i["kind"] == "orphan_report"}
    text = "\n".join(p.read_text() for p in [tree / LEDGER, *tree.glob("plans/active/*/*.md")])
    folders = [p for p in tree.glob("plans/active/*/reports/*") if p.is_dir()]
    folders += [p for p in tree.glob("plans/active/*/reports/*/*") if p.is_dir()]

    def cited(folder: Path) -> bool:
        parts = folder.relative_to(tree).parts
        tail = "/".join(parts[parts.index("reports") + 1:])
        return tail in text

    uncited = {p.relative_to(tree).as_posix() for p in folders if not cited(p)}
    assert orphans == uncited
    assert orphans == {
        f"plans/active/{DOSE}/reports/2026-01-23T014011Z/inbox_sla_watch_fail",
        f"plans/active/{DOSE}/reports/2026-01-23T020500Z/inbox_sla_watch_fail",
    }


def test_audit_reports_the_dangling_citations_of_late_entries(tree):
    data = json_of(ledger(tree, "audit", "--json"))
    missing = {(i["line"], i["message"].split(" cites ", 1)[1].split(",")[0]) for i in data["issues"] if i["kind"] == "missing_artifact"}
    text = (tree / LEDGER).read_text()
    after_todos = text.count("\n", 0, text.index("\n## TODOs\n")) + 2
    dangling = set()
    for number, line in enumerate(text.splitlines(), 1):
        for path in re.findall(r"`(plans/active/[^`\s*<]+)`", line):
            path = path.split("::", 1)[0]  # `bin/tool.py::function` cites the file
            if number > after_todos and not (tree / path).exists():
                dangling.add((number, path))
    assert dangling, "the tree's late entries cite files the export lacks"
    assert dangling <= missing


def test_audit_finds_plan_and_ledger_agreeing_on_this_tree(tree):
    data = json_of(ledger(tree, "audit", "--json"))
    assert [i for i in data["issues"] if i["kind"] == "plan_ledger"] == []


def test_audit_reports_plan_and_ledger_disagreeing(fresh):
    plan = fresh / f"plans/active/{DOSE}/implementation.md"
    plan.write_text(plan.read_text().replace("- [x] C1:", "- [ ] C1:"))
    data = json_of(ledger(fresh, "audit", "--json"))
    (issue,) = [i for i in data["issues"] if i["kind"] == "plan_ledger"]
    ledger_line = next(n for n, line in enumerate((fresh / LEDGER).read_text().splitlines(), 1) if line.startswith(f"- [x] {DOSE}.C1:"))
    assert (issue["file"], issue["line"], issue["failing"]) == (LEDGER, ledger_line, True)
    assert "[ ] (open)" in issue["message"] and "[x] (done) in the ledger's ## TODOs" in issue["message"]


# ---------------------------------------------------------------- writing commands


def test_attempt_add_goes_after_the_files_last_entry_in_its_heading_style(fresh):
    before = (fresh / LEDGER).read_text()
    result = ledger(fresh, "attempt", "add", DOSE, "--row", "F1", "--summary", "Supervisor check of the inbox.")
    assert result.exit_code == 0, result.output
    after = (fresh / LEDGER).read_text()
    assert after.startswith(before)
    new_entries = entries(after)
    assert len(new_entries) == 41
    newest = new_entries[-1]
    assert newest["line"] > max(e["line"] for e in entries(before))
    assert re.fullmatch(rf"### \d{{4}}-\d\d-\d\dT\d\d:\d\dZ — {DOSE}\.F1", newest["heading"]), newest["heading"]
    assert after[len(before):].rstrip("\n").endswith("Supervisor check of the inbox.")
    assert f"attempt #36" in result.output  # 35 entries of this initiative before it


def test_mark_f1_changes_only_its_checkbox(fresh):
    before = (fresh / LEDGER).read_text()
    result = ledger(fresh, "mark", DOSE, "F1", "done")
    assert result.exit_code == 0, result.output
    after = (fresh / LEDGER).read_text()
    assert after == before.replace(f"- [ ] {DOSE}.F1:", f"- [x] {DOSE}.F1:", 1)
    status = json_of(ledger(fresh, "status", DOSE, "--json"))
    assert status["initiatives"][0]["counts"]["open"] == 0


def test_do_f1_runs_records_evidence_and_appends_after_the_last_entry(fresh):
    # The export lacks the loop's tests (its large data is not part of it): a tiny test of
    # our own stands in for the row's selector.
    (fresh / "tests_ledger").mkdir()
    (fresh / "tests_ledger/test_inbox_probe.py").write_text("def test_inbox_probe():\n    assert True\n")
    before = (fresh / LEDGER).read_text()
    result = ledger(fresh, "do", DOSE, "F1", "--selector", "pytest tests_ledger/test_inbox_probe.py -q", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{\n"):])
    assert (data["outcome"], data["state_before"], data["state_after"]) == ("passed", "open", "done")
    report = fresh / data["report_dir"]
    assert (report / "manifest.json").is_file() and (report / "pytest.log").is_file()
    after = (fresh / LEDGER).read_text()
    new = entries(after)
    assert len(new) == 41 and new[-1]["line"] > max(e["line"] for e in entries(before))
    assert new[-1]["heading"].endswith(f"— {DOSE}.F1")
    assert f"- [x] {DOSE}.F1: Await Maintainer <2>" in after
    audit = json_of(ledger(fresh, "audit", DOSE, "--json"))
    f1 = next(r for r in audit["initiatives"][0]["rows"] if r["row"] == "F1")
    # A run of a selector given with --selector proves that selector, not the row's own.
    assert f1["audit"] == "inconsistent"
    assert "ran another selector" in " ".join(r["message"] for r in f1["reasons"])
    assert data["report_dir"].rstrip("/") not in {
        i["message"].split(" ", 1)[0].rstrip("/") for i in audit["issues"] if i["kind"] == "orphan_report"
    }


# ---------------------------------------------------------------- the rest


def test_selectors_list_the_ledger_rows_selectors(tree):
    data = json_of(ledger(tree, "selectors", "--json"))
    found = {(s["initiative"], s["row"], s["selector"]) for s in data["selectors"]}
    assert (DOSE, "F1", "pytest tests/tools/test_check_inbox_for_ack_cli.py -q") in found
    markdown = ledger(tree, "selectors", "--markdown")
    assert markdown.exit_code == 0 and "F1" in markdown.output


def test_findings_of_a_tree_whose_findings_file_is_still_empty(tree):
    data = json_of(ledger(tree, "findings", "--json"))
    assert (data["exists"], data["findings"], data["unknown_citations"]) == (True, [], [])


def test_check_input_reads_the_real_directive(tree):
    # Whether each of its complaints is right is the directives suite's business; here: the
    # real file is read, its header fields found, and the answer is a report, not a crash.
    result = ledger(tree, "check-input", str(tree / "input.md"), "--json")
    data = json_of(result)
    assert data["fields"]["focus"]["value"].startswith(DOSE)
    assert data["fields"]["summary"]["line"] == 1
