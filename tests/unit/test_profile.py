"""Guardrail bands and the sparkline, without any workspace files."""

from pathlib import Path

import pytest

from ledger.config import Config
from ledger.reading.profile import Bands, guardrails
from ledger.reading.sparkline import sparkline_svg
from ledger.workspace import Workspace


def test_dashboard_bands_use_only_passing_timed_runs():
    ws = Workspace(root=Path("/nonexistent"), config=Config(guardrail_warn=2.0, guardrail_fail=3.0, baseline_runs=3))
    runs = [
        {"duration_s": 100.0, "outcome": "failed"},
        {"duration_s": 1.0, "outcome": "passed"},
        {"duration_s": None, "outcome": "passed"},
        {"duration_s": 3.0, "outcome": "passed"},
        {"duration_s": 2.0, "outcome": "passed"},
    ]
    assert guardrails(ws, runs) == {"baseline": 2.0, "warn": 4.0, "fail": 6.0, "runs": 3}
    assert guardrails(ws, [{"duration_s": 5.0, "outcome": "failed"}]) is None


def test_verdict_text_names_the_ratio_and_thresholds():
    bands = Bands(baseline=2.0, warn=3.4, fail=5.0, runs=4)
    assert bands.describe(4.0) == "warn: 4.00s is 2.00x the baseline 2.00s (median of 4 passing runs; warn at 3.40s, fail at 5.00s)"
    assert bands.describe(1.0).startswith("ok: ") and bands.describe(5.0).startswith("fail: ")


@pytest.mark.parametrize("durations", [[1.0], [1.0, 2.0, 0.5], []])
def test_sparkline_is_self_styled_svg(durations):
    svg = sparkline_svg(durations, ["passed"] * len(durations), {"baseline": 1.0, "warn": 1.7, "fail": 2.5})
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<circle") == len(durations) and "class=" not in svg  # no stylesheet in a Markdown file
    assert ("<polyline" in svg) == (len(durations) > 1)
