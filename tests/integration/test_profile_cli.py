"""`ledger profile` statistics, runtime_profile.md, and the guardrail `ledger do` records."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.reading.profile import baseline_bands
from tests.integration.workspace_factory import make_workspace

PLAN_FILE = "plans/active/DEMO-001/implementation.md"


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def run(ws: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--root", str(ws)], catch_exceptions=False)


A1_SELECTOR = "pytest tests/test_demo.py::test_ok -q"


def recorded_run(ws: Path, timestamp: str, duration: float, outcome: str = "passed", complete: bool = True, row: str = "A1",
                 selector: str = A1_SELECTOR) -> Path:
    """A report folder as `ledger do` leaves it (manifest with hashes), with a chosen duration."""
    folder = ws / "plans/active/DEMO-001/reports" / timestamp / "phase_a_assessment"
    folder.mkdir(parents=True)
    (folder / "pytest.log").write_text(f"{outcome}\n")
    from ledger.running.evidence import hash_files

    manifest = {
        "complete": complete, "row": row, "plan": PLAN_FILE, "outcome": outcome, "duration_s": duration,
        "started_at": timestamp, "files": hash_files(folder), "selector": selector,
    }
    from ledger.running.evidence import write_manifest

    write_manifest(folder, manifest)  # sealed, as ledger do writes it
    return folder


def test_baseline_is_the_median_of_the_last_n_passing_runs():
    bands = baseline_bands([100.0, 1.0, 2.0, 3.0, 4.0, 50.0], warn=1.7, fail=2.5, last_n=5)
    assert bands.baseline == 3.0 and bands.runs == 5  # median of [1, 2, 3, 4, 50]: the 100 is too old
    assert bands.warn == pytest.approx(5.1) and bands.fail == pytest.approx(7.5)
    assert [bands.verdict(d) for d in (3.0, 5.1, 7.4, 7.5)] == ["ok", "warn", "warn", "fail"]
    assert baseline_bands([], 1.7, 2.5, 5) is None


def test_statistics_and_written_profile(ws):
    durations = [10.0, 11.0, 12.0, 9.0]
    for index, duration in enumerate(durations):
        recorded_run(ws, f"2026-01-0{index + 1}T000000Z", duration)
    # Only passing runs of the row's current selector count: a failure, or a pass of another
    # selector (--selector on another test), times something else.
    recorded_run(ws, "2026-01-04T120000Z", 0.5, selector="pytest tests/test_demo.py::test_env -q")
    failed = recorded_run(ws, "2026-01-05T000000Z", 30.0, outcome="failed")
    recorded_run(ws, "2026-01-06T000000Z", 99.0, complete=False)  # a killed run: not timed
    result = run(ws, "profile", "DEMO-001", "A1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    timed = durations
    assert data["count"] == 4 and data["excluded"] == 2 and len(data["runs"]) == 7
    assert [r["counted"] for r in data["runs"]] == [True, True, True, True, False, False, False]
    assert data["mean_s"] == pytest.approx(statistics.mean(timed))
    assert data["stdev_s"] == pytest.approx(statistics.stdev(timed))
    assert data["cv"] == pytest.approx(statistics.stdev(timed) / statistics.mean(timed))
    assert (data["min_s"], data["max_s"]) == (9.0, 12.0)
    assert data["bands"]["baseline"] == pytest.approx(statistics.median(durations))
    # runtime_profile.md goes to the newest intact folder, which is the failed run; its manifest now covers it.
    assert data["written"] == f"plans/active/DEMO-001/reports/2026-01-05T000000Z/phase_a_assessment/runtime_profile.md"
    text = (failed / "runtime_profile.md").read_text()
    assert "<svg" in text and "| Warning |" in text and "Coefficient of variation" in text
    assert "no: another selector" in text and "no: failed" in text
    manifest = json.loads((failed / "manifest.json").read_text())
    assert "runtime_profile.md" in manifest["files"]


def test_profile_never_launders_a_tampered_folder(ws):
    recorded_run(ws, "2026-01-01T000000Z", 10.0)
    newest = recorded_run(ws, "2026-01-02T000000Z", 11.0)
    (newest / "pytest.log").write_text("edited by hand\n")
    data = json.loads(run(ws, "profile", "DEMO-001", "A1", "--json").output)
    assert data["written"].startswith("plans/active/DEMO-001/reports/2026-01-01T000000Z/")
    assert not (newest / "runtime_profile.md").exists()


def test_slow_run_gets_a_fail_verdict_from_ledger_do(ws):
    # Three fast recorded runs of A6 make the baseline tiny; a 2 s sleep is far beyond 2.5x.
    for index in range(3):
        recorded_run(ws, f"2026-01-0{index + 1}T000000Z", 0.01, row="A6",
                     selector="SLOW_SECONDS=2 pytest tests/test_demo.py::test_slow -q")
    plan = ws / PLAN_FILE
    plan.write_text(plan.read_text().replace("SLOW_SECONDS=30", "SLOW_SECONDS=2"))
    result = run(ws, "do", "DEMO-001", "A6", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{\n"):])
    assert data["guardrail"].startswith("fail: ")
    folder = Path(ws / data["report_dir"])
    assert json.loads((folder / "manifest.json").read_text())["guardrail"] == data["guardrail"]
    assert "Runtime guardrail: fail" in (ws / "docs/fix_plan.md").read_text()


def test_profile_of_a_row_without_runs(ws):
    result = run(ws, "profile", "DEMO-001", "A2")
    assert result.exit_code == 0
    assert "0 timed runs" in result.output and "no intact report folder" in result.output


def test_profile_unknown_row_exit_2(ws):
    result = CliRunner().invoke(main, ["profile", "DEMO-001", "Q7", "--root", str(ws)])
    assert result.exit_code == 2 and "unknown row 'Q7'" in result.output
