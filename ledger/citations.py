"""Evidence citations in plan and ledger prose: `reports/<TS>/<slug>/…` paths.

Agents cite evidence in many shapes: relative to the initiative folder
(`reports/2025-10-19T193425Z/phase_d_hardening/`), from the repo root
(`plans/active/X/reports/…`), with shell brace lists
(`reports/2025-10-17T{193400Z,195624Z}/{summary.md,pytest.log}`), globs
(`ground_truth_manifest.*`) and placeholders (`reports/<TS>/…`). This module
finds them, expands them, and resolves them against a workspace; a placeholder
is reported as a placeholder, never looked up as a path.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path

# One path segment: plain characters, a `{a,b}` list (spaces allowed after commas)
# or a `<placeholder>`.
_SEGMENT = r"(?:\{[^{}\n]*\}|<[^<>\n]*>|[\w.\-*…])+"
_CITATION = re.compile(
    rf"(?<![\w/.\-<>{{}}*])((?:{_SEGMENT}/)*reports/(?:{_SEGMENT}(?:/{_SEGMENT})*/?)?)"
)
_PLACEHOLDER_SEGMENT = re.compile(
    r"<[^<>]*>|\{[^,{}]*\}|YYYY|HHMMSS|…|\.\.\.|\bTS\b|\bTIMESTAMP\b|\bts\b", re.IGNORECASE
)
_REPORT_ROOT_ONLY = re.compile(r"(?:^|/)reports/?\*?$")
_BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")
MAX_EXPANSIONS = 64


@dataclass(frozen=True)
class Citation:
    text: str  # as written
    line: int  # 1-based, in the file it was read from
    paths: tuple[str, ...]  # brace-expanded, in order
    placeholder: bool


@dataclass
class Resolution:
    citation: Citation
    existing: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # would leave the workspace

    @property
    def exists(self) -> bool:
        return bool(self.existing)


def expand_braces(text: str) -> list[str]:
    """Shell-style `{a,b}` expansion, left to right, capped at MAX_EXPANSIONS results."""
    match = _BRACES.search(text)
    if not match:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    results: list[str] = []
    for option in match.group(1).split(","):
        for expanded in expand_braces(head + option.strip() + tail):
            results.append(expanded)
            if len(results) >= MAX_EXPANSIONS:
                return results
    return results


def is_placeholder(path_text: str) -> bool:
    return any(_PLACEHOLDER_SEGMENT.search(segment) for segment in path_text.split("/"))


def find_citations(text: str, first_line: int = 1) -> list[Citation]:
    """Every `…reports/…` path in `text`; line numbers count from `first_line`."""
    if "reports/" not in text:
        return []
    found: list[Citation] = []
    for match in _CITATION.finditer(text):
        raw = match.group(1).rstrip(".:")
        if _REPORT_ROOT_ONLY.search(raw):
            continue  # "reports/" or "reports/*" names the folder, not a piece of evidence
        line = first_line + text.count("\n", 0, match.start())
        paths = tuple(p.rstrip(".:") for p in expand_braces(raw))
        found.append(Citation(raw, line, paths, any(is_placeholder(p) for p in paths)))
    return found


def citation_bases(root: Path, initiative_dir: Path | None, report_root: Path | None) -> list[Path]:
    """Folders a relative `reports/…` citation may be relative to, most specific first."""
    bases: list[Path] = []
    if report_root is not None:
        bases.append(report_root.parent)
    if initiative_dir is not None and initiative_dir not in bases:
        bases.append(initiative_dir)
    if initiative_dir is not None:
        docs_plans = root / "docs" / "plans" / initiative_dir.name
        if docs_plans not in bases:
            bases.append(docs_plans)
    return bases


def resolve(citation: Citation, root: Path, bases: list[Path]) -> Resolution:
    """Which of the cited paths exist, relative to the workspace root or one of `bases`."""
    resolution = Resolution(citation)
    if citation.placeholder:
        return resolution
    root_resolved = root.resolve()
    for path_text in citation.paths:
        if path_text.startswith("/") or path_text.startswith("~"):
            resolution.outside.append(path_text)
            continue
        candidates = [root / path_text] if not path_text.startswith("reports/") else [b / path_text for b in bases]
        if not path_text.startswith("reports/"):
            # `phase_x/reports/…`-style prefixes are taken from the root first, then the bases.
            candidates += [b / path_text for b in bases]
        hit = None
        escaped = False
        for candidate in candidates:
            for concrete in _glob(candidate):
                if not _inside(root_resolved, concrete):
                    escaped = True
                    continue
                hit = concrete
                break
            if hit is not None:
                break
        if hit is not None:
            resolution.existing.append(hit)
        elif escaped:
            resolution.outside.append(path_text)
        else:
            resolution.missing.append(path_text)
    return resolution


def _glob(candidate: Path) -> list[Path]:
    text = str(candidate)
    if any(ch in text for ch in "*?["):
        return [Path(p) for p in sorted(glob.glob(text))]
    return [candidate] if candidate.exists() else []


def _inside(root: Path, path: Path) -> bool:
    resolved = path.resolve()
    return resolved == root or root in resolved.parents
