"""`ledger check-input`: is a supervisor directive (input.md) right for this workspace?

Its header fields and sections (read by `ledger.documents.directive`) are checked against the
workspace: Focus names an initiative and row, Branch is checked out, every Mapped selector passes
the selector policy and collects tests, Artifacts is a report folder, cited findings exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ledger.documents.directive import (
    HEADER_TITLES,
    SECTION_TITLES,
    Directive,
    DirectiveMode,
    artifacts_path,
    mode_name,
    parse_directive,
    parse_focus,
)
from ledger.errors import BadInput, SelectorRule
from ledger.markdown.text import SourceText
from ledger.running.evidence import TIMESTAMP
from ledger.running.git_commit import current_branch
from ledger.running.selector import Selector, mapped_selectors

# pytest could not import what a test file imports: the environment lacks it, the selector
# may be right (`No module named 'tensorflow'` where the project's dependencies are missing).
_MISSING_MODULE = re.compile(
    r"(?:ModuleNotFoundError|ImportError): (?P<what>No module named '[^']+'|cannot import name '[^']+')"
)


class Severity(StrEnum):
    """An error fails `check-input` (exit 1); a warning is reported only."""

    ERROR = "error"
    WARNING = "warning"


@dataclass
class Problem:
    line: int
    message: str
    severity: Severity = Severity.ERROR
    rule: SelectorRule | None = None  # the selector-policy rule a refused Mapped selector breaks

    @property
    def refused(self) -> bool:
        return self.rule is not None and self.rule.refuses

    def to_json(self) -> dict:
        return {
            "line": self.line,
            "severity": self.severity,
            "message": self.message,
            "rule": self.rule,
        }


@dataclass
class CheckReport:
    path: str
    fields: dict[str, dict] = field(default_factory=dict)
    sections: dict[str, int] = field(default_factory=dict)
    focus: dict | None = None
    selectors: list[dict] = field(default_factory=list)
    artifacts: dict | None = None
    findings: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def refused(self) -> list[Problem]:
        """Mapped selectors the selector policy refused (never collected): exit 2."""
        return [p for p in self.problems if p.refused]

    def to_json(self) -> dict:
        return {
            "file": self.path,
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.problems) - len(self.errors),
            "fields": self.fields,
            "sections": self.sections,
            "focus": self.focus,
            "selectors": self.selectors,
            "artifacts": self.artifacts,
            "findings": self.findings,
            "problems": [p.to_json() for p in sorted(self.problems, key=lambda p: p.line)],
        }


def check_directive(
    ws, path: Path, collect_tests: bool = True, collect_timeout_s: float = 120.0
) -> CheckReport:
    source = SourceText.read(path)
    directive = parse_directive(source)
    report = CheckReport(path=ws.relative(path))
    report.fields = {
        key: {"line": f.line, "value": f.full_text} for key, f in directive.fields.items()
    }
    report.sections = {key: f.line for key, f in directive.sections.items()}
    problems = report.problems

    for key, title in HEADER_TITLES.items():
        item = directive.fields.get(key)
        if item is None:
            # The loop that writes real directives never writes Mode: the rest is needed.
            problems.append(
                Problem(
                    1,
                    f"missing header field `{title}:`",
                    Severity.WARNING if key == "mode" else Severity.ERROR,
                )
            )
        elif not item.full_text:
            problems.append(Problem(item.line, f"header field `{title}:` is empty"))
    if "do_now" not in directive.sections:
        problems.append(Problem(1, "missing section `Do Now`"))
    for key, title in SECTION_TITLES.items():
        if key != "do_now" and key not in directive.sections:
            problems.append(Problem(1, f"missing section `{title}`", Severity.WARNING))
    for key, line in directive.repeated:
        title = HEADER_TITLES.get(key) or SECTION_TITLES[key]
        problems.append(
            Problem(line, f"`{title}` appears again; only the first one counts", Severity.WARNING)
        )

    mode = directive.fields.get("mode")
    if mode is not None and mode.value and mode_name(mode.value) is None:
        problems.append(
            Problem(
                mode.line, f"unknown Mode {mode.value!r} (use one of {', '.join(DirectiveMode)})"
            )
        )

    branch = directive.fields.get("branch")
    if branch is not None and branch.value:
        current = current_branch(ws.root)
        named = branch.value.strip("`* ").split()[0] if branch.value.strip("`* ") else ""
        if not current.startswith("(") and named != current:
            problems.append(
                Problem(
                    branch.line,
                    f"Branch {named!r} is not the checked-out branch {current!r}",
                    Severity.WARNING,
                )
            )
    initiative = _check_focus(ws, directive, report)
    _check_selectors(ws, directive, report, collect_tests, collect_timeout_s)
    if initiative is not None:
        _check_artifacts(ws, directive, report, initiative)
    _check_findings(ws, directive, report)
    return report


def _check_focus(ws, directive: Directive, report: CheckReport) -> str | None:
    focus = directive.fields.get("focus")
    if focus is None or not focus.value:
        return None
    known = ws.known_initiatives()
    initiative, row, token = parse_focus(focus.value, known)
    report.focus = {"initiative": initiative, "row": row, "token": token}
    if initiative is None:
        hint = f" (known: {', '.join(sorted(known)[:10])})" if known else ""
        report.problems.append(
            Problem(
                focus.line, f"Focus names no existing initiative: {token or focus.value!r}{hint}"
            )
        )
        return None
    if row is not None:
        try:
            found = ws.find_row(initiative, row)
        except BadInput as exc:
            report.problems.append(Problem(focus.line, f"Focus row: {exc.message}"))
        else:
            report.focus["file"] = ws.relative(found.path)
            report.focus["line"] = found.line
    return initiative


def _check_selectors(
    ws, directive: Directive, report: CheckReport, collect_tests: bool, timeout_s: float
) -> None:
    from ledger.errors import UnsafeSelector
    from ledger.running.selector_policy import SelectorPolicy
    from ledger.running.selectors import collect

    mapped = directive.fields.get("mapped_tests")
    if mapped is None or not mapped.full_text:
        return
    texts, says_none = mapped_selectors(mapped.full_text)
    if not texts:
        if not says_none:
            report.problems.append(
                Problem(
                    mapped.line,
                    "Mapped tests names no pytest selector (write `none — reason` if none applies)",
                )
            )
        return
    policy = SelectorPolicy.for_workspace(ws)
    safe: list[tuple[dict, Selector]] = []
    for text in texts:
        entry: dict = {"selector": text, "safe": False, "collected": None, "error": None}
        report.selectors.append(entry)
        try:
            selector = policy.parse(text)
        except UnsafeSelector as exc:
            entry["error"], entry["rule"] = exc.detail, exc.rule
            report.problems.append(Problem(mapped.line, exc.detail, rule=exc.rule))
            continue
        entry["safe"] = True
        entry["env"] = {**ws.config.env, **selector.env}
        safe.append((entry, selector))
    if not collect_tests or not safe:
        return
    from concurrent.futures import ThreadPoolExecutor

    from ledger.running.interpreter import workspace_interpreter

    python = workspace_interpreter(ws).path
    with ThreadPoolExecutor(max_workers=min(len(safe), 8)) as pool:
        results = list(
            pool.map(
                lambda pair: collect(pair[1], pair[0]["env"], ws.root, timeout_s, python), safe
            )
        )
    for (entry, selector), result in zip(safe, results, strict=True):
        entry["collected"] = result.count
        missing = [path for path in _test_paths(selector) if not (ws.root / path).exists()]
        module = _MISSING_MODULE.search(result.error or "")
        if missing or module:
            entry["collected"] = None  # not collectable here: no count to report
        if missing:
            # A test the directive's own Do Now may create (TDD), or a wrong path: not
            # collectable here either way.
            entry["not_collectable"] = f"{', '.join(missing)} not in this workspace"
            report.problems.append(
                Problem(
                    mapped.line,
                    f"selector {entry['selector']!r}: {', '.join(missing)} is not in this workspace (a test still to be written, or a wrong path)",
                    Severity.WARNING,
                )
            )
        elif module:
            entry["not_collectable"] = module.group("what")
            report.problems.append(
                Problem(
                    mapped.line,
                    f"selector {entry['selector']!r} cannot be collected in this environment: {module.group('what')} "
                    "(install the project's dependencies to check it)",
                    Severity.WARNING,
                )
            )
        elif result.error:
            entry["error"] = result.error
            report.problems.append(
                Problem(mapped.line, f"selector {entry['selector']!r}: {result.error}")
            )
        elif result.count == 0:
            report.problems.append(
                Problem(mapped.line, f"selector {entry['selector']!r} collects 0 tests")
            )


def _test_paths(selector) -> list[str]:
    """The test files and folders a selector names (`tests/x.py::t` -> `tests/x.py`)."""
    paths = []
    for arg in selector.args:
        if arg.startswith("-"):
            continue
        path = arg.split("::", 1)[0]
        if path.endswith(".py") or "/" in path:
            paths.append(path)
    return paths


def _check_artifacts(ws, directive: Directive, report: CheckReport, initiative: str) -> None:
    item = directive.fields.get("artifacts")
    if item is None or not item.value:
        return
    raw = artifacts_path(item.value)
    report_root = ws.report_root(initiative)
    target = Path(raw)
    # Plans cite evidence relative to the initiative folder (`reports/<TS>/<slug>/`).
    base = report_root.parent if raw.startswith("reports/") else ws.root
    resolved = (target if target.is_absolute() else base / target).resolve()
    root_resolved = report_root.resolve()
    report.artifacts = {
        "path": raw,
        "report_root": ws.relative(report_root) + "/",
        "exists": resolved.exists(),
    }
    if resolved != root_resolved and root_resolved not in resolved.parents:
        report.problems.append(
            Problem(
                item.line,
                f"Artifacts {raw!r} is not under the initiative's report root {ws.relative(report_root)}/",
            )
        )
        return
    parts = resolved.relative_to(root_resolved).parts
    if not parts or not TIMESTAMP.match(parts[0]):
        report.problems.append(
            Problem(
                item.line,
                f"Artifacts {raw!r} is not a reports/<YYYY-MM-DDTHHMMSSZ>/<slug>/ folder",
                Severity.WARNING,
            )
        )


def _check_findings(ws, directive: Directive, report: CheckReport) -> None:
    from ledger.documents.findings import find_citations, load_findings

    doc = load_findings(ws.findings_path)
    citations = find_citations(
        directive.text, directive.path, doc.categories, frozenset(ws.known_initiatives())
    )
    for citation in citations:
        known = citation.id in doc.findings
        report.findings.append({"id": citation.id, "line": citation.line, "known": known})
        if known:
            continue
        if ws.findings_path.exists():
            report.problems.append(
                Problem(
                    citation.line,
                    f"cites finding {citation.id}, which {ws.relative(ws.findings_path)} lacks",
                )
            )
        else:
            # Nothing to check it against: a workspace without a findings file yet.
            report.problems.append(
                Problem(
                    citation.line,
                    f"cites finding {citation.id}, but there is no {ws.relative(ws.findings_path)} to check it against",
                    Severity.WARNING,
                )
            )
