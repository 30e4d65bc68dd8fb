"""Workspace settings from `[tool.ledger]` in pyproject.toml or from ledger.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.documents.states import RowState, StateVocabulary
from ledger.errors import BadInput

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Config:
    ledger: str = "docs/fix_plan.md"
    findings: str = "docs/findings.md"
    # Folders whose sub-folders are initiatives (each holding plan *.md files).
    plan_roots: tuple[str, ...] = ("plans/active", "docs/plans")
    # Where a run's evidence goes; {initiative} is substituted. None: a `reports/` folder in
    # the initiative's own folder, under whichever plan root holds it.
    report_root: str | None = None
    templates: str = "templates"
    # Files (globs) holding attempts moved out of the ledger: their attempts still count
    # when the next attempt number is chosen.
    ledger_archives: tuple[str, ...] = (
        "docs/fix_plan_archive.md",
        "docs/archive/*fix_plan_archive*.md",
    )
    env: dict[str, str] = field(default_factory=dict)
    # Environment names selectors may set besides ledger.running.selector_policy.DEFAULT_ALLOWED_ENV.
    allow_env: tuple[str, ...] = ()
    states: StateVocabulary = field(default_factory=StateVocabulary)
    guardrail_warn: float = 1.7
    guardrail_fail: float = 2.5
    baseline_runs: int = 5
    # The Python that runs the tests (see ledger/running/interpreter.py); None: found in the workspace.
    python: str | None = None
    # Distributions env_snapshot.txt/env.json list; None: derived from the workspace
    # (ledger.running.environment.project_packages).
    packages: tuple[str, ...] | None = None
    timeout: float | None = None  # `ledger do`'s default --timeout in seconds (0: none)
    source: Path | None = None  # the file the settings came from, if any


def load_config(root: Path) -> Config:
    ledger_toml = root / "ledger.toml"
    pyproject = root / "pyproject.toml"
    if ledger_toml.is_file():
        data = _read_toml(ledger_toml)
        section = data.get("tool", {}).get("ledger", data)
        return _config_from(section, ledger_toml)
    if pyproject.is_file():
        section = _read_toml(pyproject).get("tool", {}).get("ledger")
        if section is not None:
            return _config_from(section, pyproject)
    return Config()


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read settings: {exc}", path) from None


def _config_from(section: dict, path: Path) -> Config:
    if not isinstance(section, dict):
        raise BadInput("[tool.ledger] must be a table", path)
    known = {
        "ledger",
        "findings",
        "plan_roots",
        "plans",
        "report_root",
        "templates",
        "env",
        "allow_env",
        "states",
        "guardrail_warn",
        "guardrail_fail",
        "baseline_runs",
        "ledger_archives",
        "python",
        "timeout",
        "packages",
    }
    unknown = sorted(set(section) - known)
    if unknown:
        raise BadInput(f"unknown [tool.ledger] keys: {', '.join(unknown)}", path)
    kwargs: dict = {"source": path}
    for key in ("ledger", "findings", "report_root", "templates", "python"):
        if key in section:
            kwargs[key] = _string(section, key, path)
    if "packages" in section:
        packages = section["packages"]
        if not isinstance(packages, list) or not all(
            isinstance(p, str) and p.strip() for p in packages
        ):
            raise BadInput(
                'packages must be a list of distribution names, like ["tensorflow", "numpy"]', path
            )
        kwargs["packages"] = tuple(p.strip() for p in packages)
    roots = section.get("plan_roots", section.get("plans"))
    if roots is not None:
        if isinstance(roots, str):
            roots = [roots]
        if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
            raise BadInput("plan_roots must be a list of folders", path)
        kwargs["plan_roots"] = tuple(
            r.rstrip("/").removesuffix("/*/*.md").removesuffix("/*") for r in roots
        )
    if "ledger_archives" in section:
        archives = section["ledger_archives"]
        if isinstance(archives, str):
            archives = [archives]
        if not isinstance(archives, list) or not all(
            isinstance(a, str) and a.strip() for a in archives
        ):
            raise BadInput(
                'ledger_archives must be a list of file globs like "docs/archive/*.md"', path
            )
        kwargs["ledger_archives"] = tuple(archives)
    if "env" in section:
        kwargs["env"] = parse_env_table(section["env"], path)
    if "allow_env" in section:
        names = section["allow_env"]
        if not isinstance(names, list) or not all(
            isinstance(n, str) and ENV_NAME.match(n) for n in names
        ):
            raise BadInput('allow_env must be a list of environment names like "MY_FLAG"', path)
        kwargs["allow_env"] = tuple(names)
    if "states" in section:
        kwargs["states"] = _states(section["states"], path)
    for key in ("guardrail_warn", "guardrail_fail"):
        if key in section:
            value = section[key]
            if not isinstance(value, (int, float)) or value <= 1:
                raise BadInput(f"{key} must be a number above 1", path)
            kwargs[key] = float(value)
    if "timeout" in section:
        value = section["timeout"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise BadInput("timeout must be a number of seconds (0: none)", path)
        kwargs["timeout"] = float(value)
    if "baseline_runs" in section:
        if not isinstance(section["baseline_runs"], int) or section["baseline_runs"] < 1:
            raise BadInput("baseline_runs must be a positive integer", path)
        kwargs["baseline_runs"] = section["baseline_runs"]
    return Config(**kwargs)


def _string(section: dict, key: str, path: Path) -> str:
    value = section[key]
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{key} must be a non-empty string", path)
    return value


def parse_env_table(table: object, path: Path | None) -> dict[str, str]:
    if not isinstance(table, dict):
        raise BadInput('env must be a table of NAME = "value" pairs', path)
    env: dict[str, str] = {}
    for name, value in table.items():
        # TOML `true` would reach the tests as "True": only strings and numbers are values.
        if (
            not ENV_NAME.match(name)
            or isinstance(value, bool)
            or not isinstance(value, (str, int, float))
        ):
            raise BadInput(f'env override {name!r} must be NAME = "value"', path)
        env[name] = str(value)
    return env


def _states(table: object, path: Path) -> StateVocabulary:
    if not isinstance(table, dict):
        raise BadInput("states must be a table", path)
    kwargs: dict[str, Any] = {}
    for state in (RowState.DONE, RowState.PARTIAL, RowState.OPEN):
        name = state.value
        if name in table:
            tokens = table[name]
            if (
                not isinstance(tokens, list)
                or not tokens
                or not all(isinstance(t, str) for t in tokens)
            ):
                raise BadInput(f'states.{name} must be a non-empty list of tokens like "[x]"', path)
            kwargs[name] = tuple(tokens)
            kwargs[f"write_{name}"] = tokens[0]
    return StateVocabulary(**kwargs)
