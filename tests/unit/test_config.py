from pathlib import Path

import pytest

from ledger.config import Config, load_config
from ledger.errors import BadInput


def test_defaults_without_settings(tmp_path):
    assert load_config(tmp_path) == Config()


def test_pyproject_tool_ledger(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ledger]\nledger = "notes/ledger.md"\nplans = ["plans/active/*/*.md"]\n'
        'env = { CUDA_VISIBLE_DEVICES = "", OMP_NUM_THREADS = 1 }\nguardrail_warn = 1.5\n'
        '[tool.ledger.states]\ndone = ["[D]", "[x]"]\n'
    )
    config = load_config(tmp_path)
    assert config.ledger == "notes/ledger.md"
    assert config.plan_roots == ("plans/active",)
    assert config.env == {"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    assert config.guardrail_warn == 1.5
    assert config.states.write_done == "[D]" and config.states.classify("[x]") == "done"


def test_ledger_toml_wins_and_accepts_top_level_keys(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ledger]\nledger = "a.md"\n')
    (tmp_path / "ledger.toml").write_text('ledger = "b.md"\n')
    assert load_config(tmp_path).ledger == "b.md"


@pytest.mark.parametrize(
    "body,message",
    [
        ('colour = "red"', "unknown [tool.ledger] keys: colour"),
        ('env = { "BAD NAME" = "x" }', "NAME"),
        ("guardrail_fail = 0.5", "above 1"),
        ("ledger = [", "cannot read settings"),
    ],
)
def test_bad_settings_are_one_clear_error(tmp_path, body, message):
    (tmp_path / "ledger.toml").write_text(f"[tool.ledger]\n{body}\n")
    with pytest.raises(BadInput) as info:
        load_config(tmp_path)
    assert message in str(info.value) and "ledger.toml" in str(info.value)
