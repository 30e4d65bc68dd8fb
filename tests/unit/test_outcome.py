"""The outcome rule (ledger/running/outcome.py) on logs and JUnit counts as real pytest writes them."""

from __future__ import annotations

import pytest

from ledger.errors import ExitCode
from ledger.running.outcome import Outcome, classify, first_error_line, parse_summary_line, row_state_after


def junit(tests=1, passed=1, failed=0, errors=0, skipped=0, collection_errors=0):
    return {"tests": tests, "passed": passed, "failed": failed, "errors": errors, "skipped": skipped,
            "collection_errors": collection_errors}


@pytest.mark.parametrize(
    ("line", "counts"),
    [
        ("============================== 1 passed in 3.37s ===============================", {"passed": 1}),
        ("1 passed, 1 skipped, 1 xfailed in 3.98s", {"passed": 1, "skipped": 1, "xfailed": 1}),
        ("=============== 1 passed, 1 skipped, 1 xfailed, 1 error in 2.62s ===============",
         {"passed": 1, "skipped": 1, "xfailed": 1, "errors": 1}),
        ("============================ no tests ran in 2.77s =============================", {}),
        ("========================== 3 tests collected in 2.04s ==========================", {"collected": 3}),
        ("======== 2/3 tests collected (1 deselected) in 0.20s ========", {"collected": 2}),
        ("==== 12 passed, 3 warnings in 61.20s (0:01:01) ====", {"passed": 12, "warnings": 3}),
    ],
)
def test_summary_line_counts(line, counts):
    assert parse_summary_line(f"collected 3 items\n\n{line}\n") == counts


def test_no_summary_line_under_qq():
    assert parse_summary_line(".sx                                                                      [100%]\n") is None


def test_exit_0_without_a_junit_report_is_not_a_pass():
    verdict = classify(exit_code=0, junit=None, log_text="1 passed in 0.01s\n")
    assert verdict.outcome == "error" and "without writing a JUnit report" in verdict.reason
    assert row_state_after(verdict.outcome) is None


def test_junit_pass_that_the_log_contradicts_is_not_a_pass():
    verdict = classify(exit_code=0, junit=junit(tests=1, passed=1), log_text="== 999 passed in 0.10s ==\n")
    assert verdict.outcome == "error" and "disagree" in verdict.reason


def test_bare_setup_plan_testcase_is_not_an_executed_test():
    # --setup-plan: JUnit tests="0" holding a bare <testcase>, the log "no tests ran".
    log = "============================ no tests ran in 2.77s =============================\n"
    assert classify(exit_code=0, junit=junit(), log_text=log).outcome == "no_tests"
    assert classify(exit_code=0, junit=junit(), log_text=log, args=["x.py", "--setup-only"]).outcome == "no_tests"


def test_all_skipped_is_skipped():
    log = "== 2 skipped in 0.1s ==\n"
    verdict = classify(exit_code=0, junit=junit(tests=2, passed=0, skipped=2), log_text=log)
    assert verdict.outcome == "skipped" and Outcome.SKIPPED.exit_code == ExitCode.SKIPPED


def test_expect_fail_turns_failure_into_red_and_pass_into_unexpected_pass():
    failed = classify(exit_code=1, junit=junit(passed=0, failed=1), log_text="== 1 failed in 0.1s ==\n", expect="fail")
    assert failed.outcome == "red" and failed.outcome.exit_code == 0
    passed = classify(exit_code=0, junit=junit(), log_text="== 1 passed in 0.1s ==\n", expect="fail")
    assert passed.outcome == "unexpected_pass" and passed.outcome.exit_code == ExitCode.UNEXPECTED_PASS
    # A collection error is not a confirmed red: no test body ran.
    broken = classify(exit_code=2, junit=junit(passed=0, errors=1, collection_errors=1),
                      log_text="E   ModuleNotFoundError: No module named 'x'\n", expect="fail")
    assert broken.outcome == "collection_error"


def test_first_error_line_names_the_module_with_a_relative_path():
    log = (
        "_____________ ERROR collecting tests/test_b.py _____________\n"
        "ImportError while importing test module '/work/proj/tests/test_b.py'.\n"
        "E   FileNotFoundError: [Errno 2] No such file or directory: '/work/proj/data/probe.npz'\n"
    )
    assert first_error_line(log, ["/work/proj"]) == (
        "FileNotFoundError: [Errno 2] No such file or directory: 'data/probe.npz' (collecting tests/test_b.py)"
    )


def test_pytest_missing_from_the_interpreter_is_a_collection_error():
    verdict = classify(exit_code=1, junit=None, log_text="/venv/bin/python: No module named pytest\n")
    assert verdict.outcome == "collection_error" and verdict.reason.endswith("No module named pytest")


def test_every_outcome_that_is_not_about_the_tests_keeps_the_row():
    for name in ("no_tests", "skipped", "collected", "red", "unexpected_pass"):
        assert row_state_after(name) is None and row_state_after(name, flip_on_error=True) is None
    for name in ("collection_error", "usage_error", "error"):
        assert row_state_after(name) is None and row_state_after(name, flip_on_error=True) == "partial"
    assert row_state_after("passed") == "done" and row_state_after("failed") == "partial"
    # Outcomes other than the zero-exit ones each have their own exit code.
    codes = [o.exit_code for o in Outcome if o.exit_code != 0]
    assert len(codes) == len(set(codes))


def test_red_green_pair_is_the_newest_red_and_the_first_pass_after_it():
    from ledger.running.outcome import red_green_pair

    assert red_green_pair([("a", "passed"), ("b", "failed")]) is None
    assert red_green_pair([("a", "red"), ("b", "failed")]) == ("a", None)
    runs = [("a", "red"), ("b", "passed"), ("c", "red"), ("d", "failed"), ("e", "passed"), ("f", "passed")]
    assert red_green_pair(runs) == ("c", "e")
