import pytest

from ledger.errors import UnsafeSelector
from ledger.running.selector import find_selectors, parse_selector


def test_env_prefix_and_args():
    s = parse_selector('CUDA_VISIBLE_DEVICES="" pytest tests/t.py::test_a -vv')
    assert s.env == {"CUDA_VISIBLE_DEVICES": ""}
    assert s.args == ("tests/t.py::test_a", "-vv")
    assert s.display == 'CUDA_VISIBLE_DEVICES="" pytest tests/t.py::test_a -vv'


def test_python_dash_m_pytest_and_node_id():
    assert parse_selector("python -m pytest -k 'a and not b' x.py").args == ("-k", "a and not b", "x.py")
    assert parse_selector("python3.11 -m pytest x.py").args == ("x.py",)
    assert parse_selector("tests/a.py::Klass::test_b").args == ("tests/a.py::Klass::test_b",)


@pytest.mark.parametrize(
    "text",
    [
        "pytest a.py; rm -rf /",
        "pytest $(whoami)",
        "pytest `id`",
        "pytest a.py && echo hi",
        "pytest a.py > out.log",
        "pytest a.py | tee log",
        "rm -rf /",
        "bash -c pytest",
        "python -c 'import os'",
        "1BAD=1 pytest a.py",
        "A=1",
        "pytest 'unterminated",
    ],
)
def test_unsafe_selectors_are_refused(text):
    with pytest.raises(UnsafeSelector):
        parse_selector(text)


@pytest.mark.parametrize(
    "text",
    [
        "pytest ... -k ExecutionConfig",  # ADR-003-BACKEND-API C2 in the real corpus
        "pytest tests/…/test_x.py",
        "pytest tests/torch/test_a.py::... -vv",
    ],
)
def test_elided_selectors_are_refused_with_a_reason(text):
    with pytest.raises(UnsafeSelector, match="is elided"):
        parse_selector(text)


def test_dots_inside_a_name_are_not_an_elision():
    assert parse_selector("pytest tests/a.py::test_b[x...y] -k 'a ... b'").args == ("tests/a.py::test_b[x...y]", "-k", "a ... b")


def test_find_selectors_in_guidance():
    guidance = (
        "Dry-run `pytest tests/a.py::t -vv` with `TEE_LOG=x.log`. Also `tests/b.py::test_c`; "
        "not `python -m ptycho_torch.train --x`, not `reports/<TS>/`."
    )
    assert find_selectors(guidance) == ["pytest tests/a.py::t -vv", "tests/b.py::test_c"]
