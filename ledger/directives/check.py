"""Supervisor directives (input.md): rendering one for a row, and checking one.

A directive is a header of `Key: value` fields (Summary, Mode, Focus, Branch,
Mapped tests, Artifacts) followed by titled sections (Do Now, If Blocked, ...).
Real directives write keys plain (`Mode: Perf`), bold (`**Mode:** Perf`) or as
headings (`## Do Now`), with or without the colon; all of those are read.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.errors import BadInput
from ledger.running.evidence import TIMESTAMP
from ledger.markdown.fences import FenceTracker
from ledger.markdown.text import SourceText

MODES = ("TDD", "Parity", "Perf", "Docs", "none")

HEADER_FIELDS = {
    "summary": ("summary",),
    "mode": ("mode",),
    "focus": ("focus",),
    "branch": ("branch",),
    "mapped_tests": ("mapped tests", "mapped test", "mapped selectors"),
    "artifacts": ("artifacts", "artifact", "artifacts dir", "artifacts hub"),
}
HEADER_TITLES = {
    "summary": "Summary", "mode": "Mode", "focus": "Focus", "branch": "Branch",
    "mapped_tests": "Mapped tests", "artifacts": "Artifacts",
}
SECTIONS = {
    "do_now": ("do now",),
    "if_blocked": ("if blocked",),
    "priorities": ("priorities & rationale", "priorities and rationale", "priorities", "rationale"),
    "how_to": ("how-to map", "how to map", "howto map", "how-to"),
    "pitfalls": ("pitfalls to avoid", "pitfalls"),
    "pointers": ("pointers",),
    "next_up": ("next up",),
}
SECTION_TITLES = {
    "do_now": "Do Now", "if_blocked": "If Blocked", "priorities": "Priorities & Rationale",
    "how_to": "How-To Map", "pitfalls": "Pitfalls To Avoid", "pointers": "Pointers", "next_up": "Next Up",
}
_ALIASES = {alias: key for table in (HEADER_FIELDS, SECTIONS) for key, aliases in table.items() for alias in aliases}

_HEADING_PREFIX = re.compile(r"^#{1,6}\s+")
_PLAIN_KEY = re.compile(r"^(?P<key>[A-Za-z][A-Za-z &/-]{0,40}?(?:\s*\([^()]{0,60}\))?)\s*:(?P<value>.*)$")
# `Do Now (hard validity contract)`, `Next Up (optional):` are the sections they name.
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")
# pytest could not import what a test file imports: the environment lacks it, the selector
# may be right (`No module named 'tensorflow'` where the project's dependencies are missing).
_MISSING_MODULE = re.compile(r"(?:ModuleNotFoundError|ImportError): (?P<what>No module named '[^']+'|cannot import name '[^']+')")
_FOCUS_TOKEN = re.compile(r"^\s*(?:\[(?P<bracketed>[^\]\s]+)\](?P<suffix>\.[A-Za-z0-9.]+)?|(?P<bare>[A-Za-z0-9][A-Za-z0-9._-]*))")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_ATTEMPT_PREFIX = re.compile(r"^[\s*+-]*(?:\*\*)?\[[^\]]*\](?:\*\*)?\s+(?:\*\*)?Attempt\s+#\d+(?:\*\*)?\s*[—–:-]*\s*|^#+\s*")


def _normalise_key(text: str) -> str:
    key = text.strip().strip("*_").strip().rstrip(":").strip()
    return " ".join(_QUALIFIER.sub("", key).lower().split())


# ---------------------------------------------------------------- reading


@dataclass
class Field:
    key: str
    line: int
    value: str
    continuation: list[str] = field(default_factory=list)

    @property
    def full_text(self) -> str:
        return "\n".join([self.value, *self.continuation]).strip()


@dataclass
class Directive:
    path: Path
    text: str
    fields: dict[str, Field] = field(default_factory=dict)
    sections: dict[str, Field] = field(default_factory=dict)
    repeated: list[tuple[str, int]] = field(default_factory=list)


def split_key_line(text: str) -> tuple[str, str, bool] | None:
    """(key, value, explicit) for a `Key: value` / `**Key:** value` / `## Key` line.

    `explicit` is False for a bare word line like `Pointers` (no colon, no
    heading, no bold), which counts only when the word is a known title.
    """
    rest = text
    heading = _HEADING_PREFIX.match(rest)
    if heading:
        rest = rest[heading.end():]
    for mark in ("**", "__"):
        if rest.startswith(mark):
            close = rest.find(mark, len(mark))
            if close == -1:
                return None
            inner, after = rest[len(mark):close], rest[close + len(mark):]
            if inner.rstrip().endswith(":"):
                return _normalise_key(inner), after.strip(), True
            if after.lstrip().startswith(":"):
                return _normalise_key(inner), after.lstrip()[1:].strip(), True
            if not after.strip():
                return _normalise_key(inner), "", True
            return None
    match = _PLAIN_KEY.match(rest)
    if match:
        return _normalise_key(match.group("key")), match.group("value").strip(), True
    if heading:
        return _normalise_key(rest), "", True
    return _normalise_key(rest), "", False


def parse_directive(source: SourceText) -> Directive:
    directive = Directive(source.path, source.text)
    current: Field | None = None
    fences = FenceTracker()
    for line in source.lines():
        text = line.text
        if fences.in_fence(text):
            if current is not None:
                current.continuation.append(text)
            continue
        parsed = split_key_line(text) if text and not text[0].isspace() else None
        key = _ALIASES.get(parsed[0]) if parsed else None
        if parsed and key and (parsed[2] or key in SECTIONS):
            table = directive.fields if key in HEADER_FIELDS else directive.sections
            if key in table:
                directive.repeated.append((key, line.number))
                current = None
                continue
            current = Field(key, line.number, parsed[1])
            table[key] = current
            continue
        if current is None:
            continue
        if current.key in HEADER_FIELDS and not text.strip():
            current = None  # a header field's continuation ends at a blank line
            continue
        current.continuation.append(text)
    return directive


# ---------------------------------------------------------------- checking


@dataclass
class Problem:
    line: int
    message: str
    severity: str = "error"
    rule: str | None = None  # the selector-policy rule a refused Mapped selector breaks

    @property
    def refused(self) -> bool:
        return self.rule is not None and self.rule != "elided"

    def to_json(self) -> dict:
        return {"line": self.line, "severity": self.severity, "message": self.message, "rule": self.rule}


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
        return [p for p in self.problems if p.severity == "error"]

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


def check_directive(ws, path: Path, collect_tests: bool = True, collect_timeout_s: float = 120.0) -> CheckReport:
    source = SourceText.read(path)
    directive = parse_directive(source)
    report = CheckReport(path=ws.relative(path))
    report.fields = {key: {"line": f.line, "value": f.full_text} for key, f in directive.fields.items()}
    report.sections = {key: f.line for key, f in directive.sections.items()}
    problems = report.problems

    for key, title in HEADER_TITLES.items():
        item = directive.fields.get(key)
        if item is None:
            # The loop that writes real directives never writes Mode: the rest is needed.
            problems.append(Problem(1, f"missing header field `{title}:`", "warning" if key == "mode" else "error"))
        elif not item.full_text:
            problems.append(Problem(item.line, f"header field `{title}:` is empty"))
    if "do_now" not in directive.sections:
        problems.append(Problem(1, "missing section `Do Now`"))
    for key, title in SECTION_TITLES.items():
        if key != "do_now" and key not in directive.sections:
            problems.append(Problem(1, f"missing section `{title}`", "warning"))
    for key, line in directive.repeated:
        title = HEADER_TITLES.get(key) or SECTION_TITLES[key]
        problems.append(Problem(line, f"`{title}` appears again; only the first one counts", "warning"))

    mode = directive.fields.get("mode")
    if mode is not None and mode.value and _mode_name(mode.value) is None:
        problems.append(Problem(mode.line, f"unknown Mode {mode.value!r} (use one of {', '.join(MODES)})"))

    branch = directive.fields.get("branch")
    if branch is not None and branch.value:
        current = current_branch(ws.root)
        named = branch.value.strip("`* ").split()[0] if branch.value.strip("`* ") else ""
        if not current.startswith("(") and named != current:
            problems.append(Problem(branch.line, f"Branch {named!r} is not the checked-out branch {current!r}", "warning"))
    initiative = _check_focus(ws, directive, report)
    _check_selectors(ws, directive, report, collect_tests, collect_timeout_s)
    if initiative is not None:
        _check_artifacts(ws, directive, report, initiative)
    _check_findings(ws, directive, report)
    return report


def _mode_name(value: str) -> str | None:
    word = re.split(r"[\s—–(,;]", value.strip().strip("`*"), maxsplit=1)[0]
    return next((mode for mode in MODES if mode.lower() == word.lower()), None)


def known_initiatives(ws) -> set[str]:
    names = set(ws.initiatives())
    if ws.ledger_path.exists():
        from ledger.documents.fix_plan import parse_ledger

        names |= set(parse_ledger(SourceText.read(ws.ledger_path)).items)
    return names


def parse_focus(value: str, known: set[str]) -> tuple[str | None, str | None, str]:
    """(initiative, row, token) from `[ID] ...`, `[ID.ROW] ...`, `[ID].ROW`, `ID.ROW ...`."""
    from ledger.documents.findings import normalise_hyphens

    match = _FOCUS_TOKEN.match(normalise_hyphens(value).strip().strip("*`"))
    if not match:
        return None, None, ""
    token = match.group("bracketed") or match.group("bare")
    suffix = (match.group("suffix") or "")[1:]
    token = token.rstrip(".:,;")
    if token in known:
        return token, suffix or None, token
    # IDs may contain dots, so try every split point, longest initiative first.
    parts = token.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head, tail = ".".join(parts[:cut]), ".".join(parts[cut:])
        if head in known:
            return head, ".".join(filter(None, [tail, suffix])) or None, token
    return None, None, token


def _check_focus(ws, directive: Directive, report: CheckReport) -> str | None:
    focus = directive.fields.get("focus")
    if focus is None or not focus.value:
        return None
    known = known_initiatives(ws)
    initiative, row, token = parse_focus(focus.value, known)
    report.focus = {"initiative": initiative, "row": row, "token": token}
    if initiative is None:
        hint = f" (known: {', '.join(sorted(known)[:10])})" if known else ""
        report.problems.append(Problem(focus.line, f"Focus names no existing initiative: {token or focus.value!r}{hint}"))
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


def mapped_selectors(value: str) -> tuple[list[str], bool]:
    """(selectors, says_none) from a `Mapped tests:` value."""
    from ledger.running.selector import looks_like_selector

    stripped = value.strip().strip("*_").strip()
    says_none = bool(re.match(r"^`?(?:none|n/a|na)\b", stripped, re.IGNORECASE))
    if says_none:
        return [], True  # code spans after "none —" explain why; they map nothing
    spans = [m.group(2).strip() for m in _CODE_SPAN.finditer(value)]
    if spans:
        selectors = [s for s in spans if looks_like_selector(s)]
        if selectors or not says_none:
            # Code spans that are no selector are reported as unsafe rather than ignored.
            return selectors or spans, says_none
    if says_none or not stripped:
        return [], says_none
    pieces = [p.strip().lstrip("-* ").strip() for p in _split_list(stripped)]
    return [p for p in pieces if p], False


def _split_list(text: str) -> list[str]:
    """`a; b`, `a, b` or one per line; a comma inside `[...]` (a parametrize id) or quotes stays."""
    pieces, current, depth, quote = [], [], 0, None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ";,\n":
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return pieces


def _check_selectors(ws, directive: Directive, report: CheckReport, collect_tests: bool, timeout_s: float) -> None:
    from ledger.errors import UnsafeSelector
    from ledger.running.selectors import collect
    from ledger.running.selector_policy import SelectorPolicy

    mapped = directive.fields.get("mapped_tests")
    if mapped is None or not mapped.full_text:
        return
    texts, says_none = mapped_selectors(mapped.full_text)
    if not texts:
        if not says_none:
            report.problems.append(Problem(mapped.line, "Mapped tests names no pytest selector (write `none — reason` if none applies)"))
        return
    policy = SelectorPolicy.for_workspace(ws)
    safe: list[tuple[dict, object]] = []
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
        results = list(pool.map(lambda pair: collect(pair[1], pair[0]["env"], ws.root, timeout_s, python), safe))
    for (entry, selector), result in zip(safe, results):
        entry["collected"] = result.count
        missing = [path for path in _test_paths(selector) if not (ws.root / path).exists()]
        module = _MISSING_MODULE.search(result.error or "")
        if missing or module:
            entry["collected"] = None  # not collectable here: no count to report
        if missing:
            # A test the directive's own Do Now may create (TDD), or a wrong path: not
            # collectable here either way.
            entry["not_collectable"] = f"{', '.join(missing)} not in this workspace"
            report.problems.append(Problem(
                mapped.line,
                f"selector {entry['selector']!r}: {', '.join(missing)} is not in this workspace (a test still to be written, or a wrong path)",
                "warning",
            ))
        elif module:
            entry["not_collectable"] = module.group("what")
            report.problems.append(Problem(
                mapped.line,
                f"selector {entry['selector']!r} cannot be collected in this environment: {module.group('what')} "
                "(install the project's dependencies to check it)",
                "warning",
            ))
        elif result.error:
            entry["error"] = result.error
            report.problems.append(Problem(mapped.line, f"selector {entry['selector']!r}: {result.error}"))
        elif result.count == 0:
            report.problems.append(Problem(mapped.line, f"selector {entry['selector']!r} collects 0 tests"))


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


def artifacts_path(value: str) -> str:
    """The folder an `Artifacts:` value names: first path, brace lists and prose cut off."""
    text = value.strip()
    span = _CODE_SPAN.search(text)
    if span:
        text = span.group(2)
    text = text.split()[0] if text.split() else ""
    text = text.split("{", 1)[0]
    return text.strip("`'\"")


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
    report.artifacts = {"path": raw, "report_root": ws.relative(report_root) + "/", "exists": resolved.exists()}
    if resolved != root_resolved and root_resolved not in resolved.parents:
        report.problems.append(Problem(item.line, f"Artifacts {raw!r} is not under the initiative's report root {ws.relative(report_root)}/"))
        return
    parts = resolved.relative_to(root_resolved).parts
    if not parts or not TIMESTAMP.match(parts[0]):
        report.problems.append(Problem(item.line, f"Artifacts {raw!r} is not a reports/<YYYY-MM-DDTHHMMSSZ>/<slug>/ folder", "warning"))


def _check_findings(ws, directive: Directive, report: CheckReport) -> None:
    from ledger.documents.findings import find_citations, load_findings

    doc = load_findings(ws.findings_path)
    citations = find_citations(directive.text, directive.path, doc.categories, frozenset(known_initiatives(ws)))
    for citation in citations:
        known = citation.id in doc.findings
        report.findings.append({"id": citation.id, "line": citation.line, "known": known})
        if known:
            continue
        if ws.findings_path.exists():
            report.problems.append(Problem(citation.line, f"cites finding {citation.id}, which {ws.relative(ws.findings_path)} lacks"))
        else:
            # Nothing to check it against: a workspace without a findings file yet.
            report.problems.append(Problem(
                citation.line, f"cites finding {citation.id}, but there is no {ws.relative(ws.findings_path)} to check it against", "warning"
            ))


# ---------------------------------------------------------------- rendering


def current_branch(root: Path) -> str:
    try:
        import git

        repo = git.Repo(root, search_parent_directories=True)
    except Exception:  # not a repository, or git itself missing
        return "(not a git repository)"
    if repo.head.is_detached:
        return f"(detached at {repo.head.commit.hexsha[:12]})"
    return repo.active_branch.name


def infer_mode(has_selector: bool) -> str:
    return "TDD" if has_selector else "none"


def brief_context(ws, initiative: str, row_ref: str, mode: str | None, now: datetime, attempts_shown: int = 3) -> dict:
    from ledger.running.do import phase_slug, resolve_selector
    from ledger.errors import UnsafeSelector
    from ledger.running.evidence import plan_report_dir
    from ledger.documents.findings import find_citations, load_findings
    from ledger.documents.fix_plan import parse_ledger

    row = ws.find_row(initiative, row_ref)
    rows = ws.rows(initiative)
    reference = row.ref
    plan = next(p for p in ws.plans(initiative) if p.path == row.path)

    selector = selector_problem = None
    env: dict[str, str] = {}
    try:
        resolved = resolve_selector(ws, row, None)
    except UnsafeSelector as exc:
        if exc.refused:
            raise  # a directive must not hand a refused selector to an engineer to run by hand
        selector_problem = exc.message
    except BadInput as exc:
        selector_problem = exc.message
    else:
        selector, env = resolved.selector.display, resolved.env

    report_dir = plan_report_dir(ws.report_root(initiative), phase_slug(row, None), now)

    findings_doc = load_findings(ws.findings_path)
    cited: dict[str, dict] = {}
    for path in ws.plan_files(initiative):
        for citation in find_citations(SourceText.read(path).text, path, findings_doc.categories, frozenset(ws.initiatives())):
            finding = findings_doc.findings.get(citation.id)
            cited.setdefault(citation.id, {
                "id": citation.id,
                "known": finding is not None,
                "synopsis": finding.synopsis if finding else "",
                "line": finding.line if finding else None,
                "cited_at": f"{ws.relative(citation.path)}:{citation.line}",
            })

    attempts, item_line = [], None
    if ws.ledger_path.exists():
        doc = parse_ledger(SourceText.read(ws.ledger_path))
        item = doc.items.get(initiative)
        item_line = item.line if item else None
        for attempt in doc.timeline_for(initiative)[-attempts_shown:]:
            first = _ATTEMPT_PREFIX.sub("", attempt.text.split("\n", 1)[0]).strip()
            attempts.append({"number": attempt.number, "date": attempt.date, "line": attempt.line, "text": first})

    position = rows.index(row)
    next_rows = [r for r in rows[position + 1:] if r.state != "done"][:2]
    phase = row.phase
    mode_name = _mode_name(mode) if mode else infer_mode(selector is not None)
    if mode and mode_name is None:
        raise BadInput(f"unknown --mode {mode!r} (use one of {', '.join(MODES)})")
    title = plan.title or initiative
    if title.startswith(initiative):
        title = title[len(initiative):].lstrip(" —–-:") or title
    return {
        "initiative": initiative,
        "row": reference,
        "row_label": row.label,
        "description": row.description,
        "state_token": row.state_token,
        "state": row.state,
        "plan_title": title,
        "plan_path": ws.relative(row.path),
        "plan_line": row.line,
        "phase_title": phase.title if phase else None,
        "phase_line": phase.line if phase else None,
        "mode": mode_name,
        "branch": current_branch(ws.root),
        "selector": selector,
        "selector_problem": selector_problem,
        "env": env,
        "env_text": ", ".join(f"`{k}={shlex.quote(v) if v else chr(34) * 2}`" for k, v in env.items()),
        "artifacts": ws.relative(report_dir.path) + "/",
        "findings": list(cited.values()),
        "findings_path": ws.relative(ws.findings_path),
        "ledger_path": ws.relative(ws.ledger_path),
        "ledger_item_line": item_line,
        "attempts": attempts,
        "next_rows": [
            {"id": r.ref, "description": r.description,
             "plan_path": ws.relative(r.path), "plan_line": r.line, "state_token": r.state_token}
            for r in next_rows
        ],
        "done_token": ws.config.states.write_done,
        "partial_token": ws.config.states.write_partial,
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def render_brief(ws, context: dict) -> str:
    from ledger.render import Renderer, render_reported

    return render_reported(Renderer(ws.templates_dir), "input.md.j2", **context)
