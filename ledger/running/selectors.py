"""The selector map: every plan row's pytest selector, its env, and what it collects.

Collection runs `python -m pytest --collect-only -q ARGS` as an argv list
(never a shell) with the same environment overrides `ledger do` would use.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

from ledger.documents.states import RowState
from ledger.errors import SelectorRule, UnsafeSelector
from ledger.running.selector import Selector, find_selectors

COLLECT_TIMEOUT_S = 120.0

_SUMMARY = re.compile(r"(?P<n>\d+)(?:/\d+)? tests? collected")
_COLLECTED_ITEMS = re.compile(
    r"\bcollected (?P<n>\d+) items?(?: / (?P<desel>\d+) deselected)?(?: / (?P<sel>\d+) selected)?"
)
_PER_FILE = re.compile(r"^\S+\.py: (?P<n>\d+)$")
_ERROR_LINE = re.compile(r"^(?:ERROR:?|E)\s+(?P<text>.+)$")


@dataclass
class Collection:
    count: int | None  # None when collection itself failed
    exit_code: int
    error: str | None = None
    detail: str | None = None


@dataclass
class MapEntry:
    initiative: str
    row: str
    file: str
    line: int
    state: RowState | None
    selector: str | None  # the text as written in the plan
    display: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    other_selectors: list[str] = field(default_factory=list)
    error: str | None = None  # unsafe / unparsable selector, with its rule
    rule: SelectorRule | None = None  # the selector-policy rule it breaks
    collected: int | None = None
    collect_error: str | None = None
    collect_detail: str | None = None

    @property
    def refused(self) -> bool:
        """Refused by the selector policy (an elided selector is only incomplete)."""
        return self.rule is not None and self.rule.refuses

    @property
    def flagged(self) -> bool:
        return self.error is not None or self.collect_error is not None or self.collected == 0

    def to_json(self) -> dict:
        return {**self.__dict__, "flagged": self.flagged, "refused": self.refused}


def collect_argv(selector: Selector, python: str | None = None) -> list[str]:
    """`selector` must have passed the selector policy (`ledger.running.selector_policy`).

    -p no:cacheprovider: collecting must not leave .pytest_cache in the workspace (so the
    options that need the cache, `--lf`/`--ff`, are left out of a collection).
    """
    from ledger.running.selector_policy import collect_only_args

    return [
        python or sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        *collect_only_args(selector.args),
    ]


def collect(
    selector: Selector,
    env_overrides: dict[str, str],
    cwd,
    timeout_s: float = COLLECT_TIMEOUT_S,
    python: str | None = None,
) -> Collection:
    """How many tests `selector` collects under `python` (the workspace's, see ledger/running/interpreter.py)."""
    env = {**os.environ, **env_overrides, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            collect_argv(selector, python),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return Collection(None, 124, f"collection timed out after {timeout_s:g}s")
    except OSError as exc:
        return Collection(None, 2, f"cannot run pytest: {exc}")
    return parse_collect_output(done.returncode, done.stdout + "\n" + done.stderr)


def parse_collect_output(exit_code: int, output: str) -> Collection:
    lines = [line.rstrip() for line in output.splitlines()]
    if exit_code in (0, 5) and (
        exit_code == 5 or any("no tests collected" in line for line in lines)
    ):
        return Collection(0, exit_code)
    if exit_code == 4 and any(
        re.match(r"^ERROR: (?:file or directory )?not found:", line) for line in lines
    ):
        # A node id or file that does not exist selects nothing: that is 0 tests.
        return Collection(0, exit_code, detail=_error_summary(exit_code, lines))
    if exit_code not in (0, 5):
        return Collection(None, exit_code, _error_summary(exit_code, lines))
    for line in reversed(lines):
        match = _SUMMARY.search(line)
        if match:
            return Collection(int(match.group("n")), exit_code)
        match = _COLLECTED_ITEMS.search(line)
        if match:
            if match.group("sel"):
                return Collection(int(match.group("sel")), exit_code)
            return Collection(int(match.group("n")) - int(match.group("desel") or 0), exit_code)
    # `-q` in the selector doubles ours: pytest then prints `file.py: N` per file.
    per_file = [int(m.group("n")) for m in (_PER_FILE.match(line) for line in lines) if m]
    if per_file:
        return Collection(sum(per_file), exit_code)
    return Collection(
        sum(1 for line in lines if "::" in line and " " not in line.strip()), exit_code
    )


def _error_summary(exit_code: int, lines: list[str]) -> str:
    meaning = {
        1: "tests failed",
        2: "collection errors",
        3: "internal error",
        4: "usage error",
    }.get(exit_code, "failed")
    detail = next((m.group("text") for m in (_ERROR_LINE.match(line) for line in lines) if m), None)
    if detail is None:
        detail = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return f"pytest --collect-only exited {exit_code} ({meaning}): {detail[:200]}"


def selector_map(ws, initiative: str | None = None) -> list[MapEntry]:
    """One entry per row that names a selector, in plan order."""
    from ledger.running.selector_policy import SelectorPolicy

    policy = SelectorPolicy.for_workspace(ws)
    initiatives = [initiative] if initiative else ws.initiatives()
    entries: list[MapEntry] = []
    for name in initiatives:
        rows = ws.rows(name)
        for row in rows:
            found = find_selectors(row.guidance) or find_selectors(row.description)
            if not found:
                continue
            entry = MapEntry(
                initiative=name,
                row=row.ref,
                file=ws.relative(row.path),
                line=row.line,
                state=row.state,
                selector=found[0],
                other_selectors=found[1:],
            )
            try:
                selector = policy.parse(found[0], entry.file, entry.line)
            except UnsafeSelector as exc:
                entry.error, entry.rule = exc.detail, exc.rule
            else:
                entry.display = selector.display
                entry.args = list(selector.args)
                entry.env = {**ws.config.env, **selector.env}
            entries.append(entry)
    return entries


def collect_entries(ws, entries: list[MapEntry], timeout_s: float = COLLECT_TIMEOUT_S) -> None:
    """Fill in `collected` for every safe entry; identical selectors run once, in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    jobs: dict[tuple, list[MapEntry]] = {}
    for entry in entries:
        if entry.error is None:
            key = (tuple(entry.args), tuple(sorted(entry.env.items())))
            jobs.setdefault(key, []).append(entry)
    if not jobs:
        return
    from ledger.running.interpreter import workspace_interpreter

    python = workspace_interpreter(ws).path

    def run(key):
        args, env = key
        return key, collect(
            Selector(text="", env=dict(env), args=args), dict(env), ws.root, timeout_s, python
        )

    workers = max(1, min(len(jobs), os.cpu_count() or 2, 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for key, result in pool.map(run, jobs):
            for entry in jobs[key]:
                entry.collected = result.count
                entry.collect_error = result.error
                entry.collect_detail = result.detail


def render_markdown(
    ws, entries: list[MapEntry], initiative: str | None, collected: bool, timestamp: str
) -> str:
    """The map as a document a loop can keep as evidence (like a hand-written selector map)."""
    import shlex

    from ledger.render import Renderer, render_reported

    groups: dict[str, list[dict]] = {}
    for entry in entries:
        own = {k: v for k, v in entry.env.items() if ws.config.env.get(k) != v}
        row = {
            **entry.to_json(),
            "own_env": " ".join(f"{k}={shlex.quote(v)}" for k, v in own.items()),
        }
        groups.setdefault(entry.initiative, []).append(row)
    renderer = Renderer(ws.templates_dir)
    renderer.environment.filters["shell_quote"] = lambda value: (
        shlex.quote(value) if value else '""'
    )
    return render_reported(
        renderer,
        "selector_map.md.j2",
        initiative=initiative,
        timestamp=timestamp,
        collected=collected,
        flagged=sum(1 for entry in entries if entry.flagged),
        entries=entries,
        env=ws.config.env,
        groups=[{"initiative": name, "entries": rows} for name, rows in groups.items()],
    )
