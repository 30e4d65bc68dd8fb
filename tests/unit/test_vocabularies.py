"""Every closed vocabulary is one StrEnum: its values are exactly the documented ones, and a
member written to JSON reads back as the same member (manifests and --json stay byte-identical)."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path

import pytest

from ledger.running.outcome import Outcome, RowEffect

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

# README's "Outcome → state" table: | `name` | exit | row | means |
_OUTCOME_ROW = re.compile(r"^\s*\| `(?P<name>[a-z_]+)` \| (?P<exit>\d+) \| (?P<row>[^|]+?) \| [^|]+ \|\s*$")
_ROW_EFFECT = {
    "→ done": RowEffect.DONE,
    "→ partial": RowEffect.PARTIAL,
    "unchanged": RowEffect.KEEP,
    "unchanged (`--flip-on-error`: → partial)": RowEffect.KEEP_UNLESS_FLIP_ON_ERROR,
}


def _readme_table(header: str, row: re.Pattern[str]) -> list[re.Match[str]]:
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == header)
    rows = []
    for line in lines[start + 2:]:
        if not line.strip().startswith("|"):
            break
        match = row.match(line)
        assert match, f"README table row not understood: {line!r}"
        rows.append(match)
    return rows


def _round_trips(enum: type[StrEnum]) -> None:
    for member in enum:
        text = json.dumps({member: member})
        assert text == json.dumps({member.value: member.value})
        (key, value), = json.loads(text).items()
        assert enum(key) is member and enum(value) is member


def test_outcomes_are_exactly_readmes_table_in_its_order_with_its_exit_codes_and_row_effects():
    rows = _readme_table("| Outcome | Exit | Row | Means |", _OUTCOME_ROW)
    assert [m["name"] for m in rows] == [o.value for o in Outcome]
    for match in rows:
        outcome = Outcome(match["name"])
        assert outcome.exit_code == int(match["exit"]), outcome
        assert outcome.row is _ROW_EFFECT[match["row"]], outcome


def test_outcomes_round_trip_through_json():
    _round_trips(Outcome)
    _round_trips(RowEffect)


def test_an_unknown_stored_outcome_is_none_not_an_error():
    assert Outcome.known("passed") is Outcome.PASSED
    assert Outcome.known("exploded") is None and Outcome.known(None) is None and Outcome.known([]) is None
    with pytest.raises(ValueError):
        Outcome("exploded")


def _readme_section(heading_start: str) -> str:
    start = README.index(heading_start)
    end = README.index("\n#", start + len(heading_start))
    return README[start:end]


def test_audit_classes_are_exactly_the_ones_readme_and_explain_describe():
    from ledger.reading.audit.model import EXPLAIN, AuditClass

    section = _readme_section("### `ledger audit")
    documented = set(re.findall(r"^- \*\*([a-z]+)\*\*", section, flags=re.M))
    documented |= set(re.findall(r"^- \*\*([a-z]+)\*\*/\*\*([a-z]+)\*\*", section, flags=re.M)[0])
    # `unknown` (a state token ledger does not know) is documented by `audit --explain` alone.
    assert documented == {c.value for c in AuditClass} - {AuditClass.UNKNOWN}
    assert set(AuditClass) <= set(EXPLAIN)
    _round_trips(AuditClass)


def test_audit_counts_in_json_keep_the_class_names_in_table_order():
    from ledger.reading.audit.model import AuditClass, AuditReport

    counts = json.loads(json.dumps(AuditReport("root", []).counts()))
    assert list(counts) == [
        "verified", "evidenced", "partial", "open", "claimed", "missing", "inconsistent", "contradicted", "tampered",
        "unknown",
    ]
    assert [AuditClass(name) for name in counts] == list(AuditClass)


def test_row_states_are_open_partial_done_and_every_configured_token_means_one():
    from ledger.documents.states import RowState, StateVocabulary

    assert [s.value for s in RowState] == ["open", "partial", "done"]
    vocabulary = StateVocabulary()
    for state in RowState:
        assert vocabulary.classify(vocabulary.token_for(state)) is state
        assert vocabulary.parse_user_state(state.value) is state
    for token in vocabulary.done + vocabulary.partial + vocabulary.open:
        assert isinstance(vocabulary.classify(token), RowState)
    _round_trips(RowState)


def test_a_run_changes_a_row_only_to_a_row_state():
    from ledger.documents.states import RowState
    from ledger.running.outcome import row_state_after

    assert row_state_after(Outcome.PASSED) is RowState.DONE and row_state_after(Outcome.FAILED) is RowState.PARTIAL
    assert {row_state_after(o, flip_on_error=True) for o in Outcome} == {RowState.DONE, RowState.PARTIAL, None}


def test_ledger_layouts_are_items_global_empty_and_parsing_gives_each():
    from ledger.documents.fix_plan import LedgerLayout, parse_ledger
    from ledger.markdown.text import SourceText

    def layout_of(text: str) -> LedgerLayout:
        return parse_ledger(SourceText(Path("docs/fix_plan.md"), text, None)).layout

    assert [layout.value for layout in LedgerLayout] == ["items", "global", "empty"]
    assert layout_of("# Fix plan\n") is LedgerLayout.EMPTY
    assert layout_of("# Fix plan\n\n## [DEMO-001] Demo\n- Status: in_progress\n") is LedgerLayout.ITEMS
    assert layout_of("# Fix plan\n\n## Attempts History\n\n### 2026-01-01T00:00Z — DEMO-001 A1\nran it\n") is LedgerLayout.GLOBAL
    _round_trips(LedgerLayout)


def test_directive_modes_are_the_ones_readme_gives_brief_and_any_case_names_one():
    from ledger.documents.directive import DirectiveMode, mode_name

    documented = re.search(r"^### `ledger brief .*\[--mode ([A-Za-z|]+)\]", README, flags=re.M)
    assert documented and documented.group(1).split("|") == [mode.value for mode in DirectiveMode]
    for mode in DirectiveMode:
        assert mode_name(mode.value.upper()) is mode and mode_name(f"{mode.value} (why)") is mode and mode_name(f"`{mode.value}`") is mode
    assert mode_name("Refactor") is None
    _round_trips(DirectiveMode)


def test_item_statuses_are_the_ones_readme_gives_ledger_item():
    from ledger.documents.fix_plan import ItemStatus

    documented = re.search(r"`ledger item INITIATIVE --status ([a-z_|]+)`", README)
    assert documented and documented.group(1).split("|") == [status.value for status in ItemStatus]
    _round_trips(ItemStatus)


def test_expect_fail_is_a_red_run_and_expect_pass_a_green_one_as_readme_says():
    from ledger.running.outcome import Expectation, TddStep

    assert [e.value for e in Expectation] == ["pass", "fail"] and [s.value for s in TddStep] == ["red", "green"]
    assert '"tdd": "red"` or `"green"`' in README
    assert Expectation.FAIL.tdd_step is TddStep.RED and Expectation.PASS.tdd_step is TddStep.GREEN
    assert json.dumps({"tdd": Expectation("fail").tdd_step}) == '{"tdd": "red"}'
    _round_trips(Expectation)
    _round_trips(TddStep)


def test_row_kinds_are_table_checklist_todo_and_parsing_gives_each():
    from ledger.documents.fix_plan import checklist_rows, parse_ledger
    from ledger.documents.plan import RowKind, parse_plan
    from ledger.documents.states import StateVocabulary
    from ledger.markdown.text import SourceText

    assert [kind.value for kind in RowKind] == ["table", "checklist", "todo"]
    def kinds(plan_text: str) -> list[RowKind]:
        return [row.kind for row in parse_plan(SourceText(Path("plan.md"), plan_text, None), StateVocabulary()).rows]

    assert kinds("# X-001\n\n### Phase A\n| ID | Task Description | State | How/Why & Guidance |\n"
                 "| --- | --- | --- | --- |\n| A1 | one | [ ] | g |\n") == [RowKind.TABLE]
    assert kinds("# X-001\n\n### Phase B\n- [x] B1: two\n") == [RowKind.CHECKLIST]
    ledger = parse_ledger(SourceText(Path("docs/fix_plan.md"), "# Fix plan\n\n## TODOs\n- [ ] DEMO-001.F1: fix it\n", None))
    assert [row.kind for row in checklist_rows(ledger, StateVocabulary(), "DEMO-001")] == [RowKind.TODO]
    _round_trips(RowKind)


def test_folder_statuses_and_a_folder_without_a_manifest(tmp_path):
    from ledger.reading.audit.integrity import FolderStatus, check_folder

    assert [s.value for s in FolderStatus] == ["intact", "tampered", "incomplete", "no_manifest", "unsealed", "missing"]
    assert check_folder(tmp_path).status is FolderStatus.NO_MANIFEST
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    assert check_folder(tmp_path).status is FolderStatus.TAMPERED
    _round_trips(FolderStatus)


def test_guardrail_verdicts_start_the_line_the_attempt_templates_look_for():
    from ledger.reading.profile import Bands, Guardrail

    assert [g.value for g in Guardrail] == ["ok", "warn", "fail"]
    bands = Bands(baseline=1.0, warn=2.0, fail=3.0, runs=3)
    assert [bands.verdict(d) for d in (1.0, 2.0, 3.0)] == [Guardrail.OK, Guardrail.WARN, Guardrail.FAIL]
    templates = Path(__file__).resolve().parents[2] / "templates"
    for name in ("attempt.md.j2", "attempt_global.md.j2"):
        assert '("warn", "fail")' in (templates / name).read_text(encoding="utf-8")
    assert bands.describe(3.0).split(":")[0] == Guardrail.FAIL
    _round_trips(Guardrail)


def test_a_check_input_problem_is_an_error_or_a_warning_and_only_errors_fail():
    from ledger.directives.check import Problem, Severity

    assert [s.value for s in Severity] == ["error", "warning"]
    assert Problem(1, "m").severity is Severity.ERROR
    assert json.dumps(Problem(2, "m", Severity.WARNING).to_json()) == (
        '{"line": 2, "severity": "warning", "message": "m", "rule": null}'
    )
    _round_trips(Severity)


def test_selector_rules_are_the_ones_refusals_print_and_readme_documents():
    from ledger.errors import SelectorRule, UnsafeSelector
    from ledger.running.selector import parse_selector

    documented = set(re.findall(r"^  - `([a-z-]+)`(?:, `([a-z-]+)`)?:", README, flags=re.M))
    names = {name for pair in documented for name in pair if name}
    # selector-syntax (not a selector at all) and elided (incomplete, not refused) are not policy rules.
    assert names == {r.value for r in SelectorRule} - {SelectorRule.SELECTOR_SYNTAX, SelectorRule.ELIDED}
    assert [rule for rule in SelectorRule if not rule.refuses] == [SelectorRule.ELIDED]
    with pytest.raises(UnsafeSelector) as refusal:
        parse_selector("pytest tests/t.py; rm -rf /")
    assert refusal.value.rule is SelectorRule.NO_SHELL and refusal.value.detail.endswith("[rule: no-shell]")
    _round_trips(SelectorRule)


def test_issue_kinds_keep_their_names_and_text_report_order():
    from ledger.reading.audit.model import Issue, IssueKind

    listed = [kind for kind in IssueKind if kind.heading is not None]
    assert listed[:3] == [IssueKind.TAMPERED_REPORT, IssueKind.MISSING_EVIDENCE, IssueKind.INCOMPLETE_REPORT]
    # Every kind is listed: a half-recorded run fails the audit, and its fix (ledger repair) is in its text.
    assert listed == list(IssueKind)
    assert json.dumps(Issue(IssueKind.ROOT_LOG, "m").to_json()["kind"]) == '"root_log"'
    _round_trips(IssueKind)
