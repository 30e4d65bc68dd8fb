"""The selector policy on its own: option clusters, values, env names and paths (issue 11).

The end-to-end table through every command is tests/reliability/test_hostile_selectors.py;
these pin how argv tokens are read, which is where a parser mismatch with pytest would hide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import UnsafeSelector
from ledger.running.selector_policy import (
    DEFAULT_ALLOWED_ENV,
    SelectorPolicy,
    check_recorded_env,
    collect_only_args,
    ledger_run_options,
)


@pytest.fixture
def policy(tmp_path):
    (tmp_path / "tests").mkdir()
    return SelectorPolicy(tmp_path.resolve())


@pytest.mark.parametrize("text", [
    "pytest tests/x.py::test_y -q",
    "pytest tests/x.py -vv -rA --tb=short --maxfail=1 --durations 3",
    "pytest tests -xvs",
    "pytest tests -vvrA",  # -r's value is the rest of the cluster
    "pytest tests -k 'a and not b' -m slow",
    "pytest tests -kfoo -mbar",
    "pytest tests -p no:randomly -pno:cacheprovider",
    "pytest tests --lf --ff --nf --lfnf=none --co --no-header",
    "pytest tests -n auto --timeout=30 --capture=tee-sys --color=no",
    "PYTHONHASHSEED=0 OMP_NUM_THREADS=2 CUDA_VISIBLE_DEVICES= pytest tests",
    "PYTHONHASHSEED=random pytest tests",
    "tests/x.py::test_y[a-b]",
    "pytest tests/x.py::TestC::test_m[1::2]",
])
def test_ordinary_selectors_are_allowed(policy, text):
    assert policy.parse(text).text == text


@pytest.mark.parametrize("text, rule, fragment", [
    ("PYTHONPATH=x pytest tests", "env-allowlist", "PYTHONPATH"),
    ("LD_PRELOAD=x pytest tests", "env-allowlist", "LD_PRELOAD"),
    ("PYTEST_ADDOPTS=-q pytest tests", "env-allowlist", "PYTEST_ADDOPTS"),
    ("PYTHONHASHSEED=4294967296 pytest tests", "env-allowlist", "PYTHONHASHSEED"),
    ("pytest tests -vp evil", "option-allowlist", "-p evil"),
    ("pytest tests -xk", "option-allowlist", "-k needs a value"),
    ("pytest tests -k --basetemp=/x", "option-allowlist", "not by a value"),
    ("pytest tests -rZ", "option-allowlist", "fEsxXpPaAwN"),
    ("pytest tests --tb=evil", "option-allowlist", "one of"),
    ("pytest tests --maxfail=x", "option-allowlist", "whole number"),
    ("pytest tests --lf=x", "option-allowlist", "--lf"),
    ("pytest tests --basetem=/x", "option-allowlist", "allowlist"),  # pytest has no abbreviations either
    ("pytest tests -p no:junitxml", "option-allowlist", "JUnit"),
    ("pytest tests -p no:", "option-allowlist", "-p no:"),
    ("pytest @args", "option-allowlist", "read more arguments"),
    ("pytest tests/../..", "path-confinement", "outside the workspace"),
    ("pytest ::t", "path-confinement", "names no file"),
])
def test_refusals_name_their_rule(policy, text, rule, fragment):
    with pytest.raises(UnsafeSelector) as caught:
        policy.parse(text, "plan.md", 7)
    error = caught.value
    assert error.rule == rule and fragment in error.message
    assert str(error).startswith("plan.md:7: ") and str(error).endswith(f"[rule: {rule}]")


def test_a_symlink_out_of_the_workspace_is_followed(policy, tmp_path):
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir()
    (policy.root / "tests/out").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeSelector, match="resolves outside"):
        policy.parse("pytest tests/out/x_test.py")


def test_allow_env_extends_only_by_name(policy):
    extended = SelectorPolicy(policy.root, DEFAULT_ALLOWED_ENV | {"MY_FLAG"})
    assert extended.parse("MY_FLAG=1 pytest tests").env == {"MY_FLAG": "1"}
    with pytest.raises(UnsafeSelector):
        extended.parse("MY_FLAG2=1 pytest tests")


def test_recorded_env_allows_the_configuration_own_names(policy):
    check_recorded_env(policy, {"CUDA_VISIBLE_DEVICES": "", "OWNER_SET": "1"}, {"OWNER_SET": "1"})
    with pytest.raises(UnsafeSelector, match="OWNER_SET"):
        check_recorded_env(policy, {"OWNER_SET": "2"}, {"OWNER_SET": "1"})


def test_ledger_run_options_keep_cache_and_basetemp_inside(tmp_path):
    report = tmp_path / "plans/active/X/reports/T/slug"
    options = ledger_run_options(tmp_path, report, ["tests"])
    assert options == ["-o", f"cache_dir={tmp_path / '.pytest_cache'}", f"--basetemp={report / 'basetemp'}"]
    assert ledger_run_options(tmp_path, report, ["-p", "no:cacheprovider"]) == [f"--basetemp={report / 'basetemp'}"]


def test_a_cache_folder_linked_outside_is_refused(tmp_path):
    outside = tmp_path.parent / (tmp_path.name + "-cache")
    outside.mkdir()
    (tmp_path / ".pytest_cache").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeSelector, match="resolves outside"):
        ledger_run_options(tmp_path, tmp_path / "r", [])


def test_collection_leaves_out_the_cache_options():
    assert collect_only_args(["tests", "--lf", "-q", "--lfnf", "all", "--ff", "--lfnf=none"]) == ["tests", "-q"]
