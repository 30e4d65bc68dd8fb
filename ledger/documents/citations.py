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

import functools
import glob
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

# One path segment: plain characters, a `{a,b}` list (spaces allowed after commas)
# or a `<placeholder>`. Possessive (`++`): a segment is never followed by `/` by giving back
# part of itself (no piece of one starts with `/`), so backtracking into it only cost time.
_SEGMENT = r"(?:\{[^{}\n]*\}|<[^<>\n]*>|[\w.\-*…]+)++"
_CITATION = re.compile(
    rf"(?<![\w/.\-<>{{}}*])((?:{_SEGMENT}/)*reports/(?:{_SEGMENT}(?:/{_SEGMENT})*/?)?)"
)
_PLACEHOLDER = re.compile(
    r"<[^<>]*>|\{[^,{}]*\}|YYYY|HHMMSS|…|\.\.\.|(?:^|/)(?:TS|TIMESTAMP|ts|timestamp)(?:/|$)",
    re.IGNORECASE,
)
_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-*…/<>")
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
    return _PLACEHOLDER.search(path_text) is not None


def find_citations(text: str, first_line: int = 1) -> list[Citation]:
    """Every `…reports/…` path in `text`; line numbers count from `first_line`."""
    if "reports/" not in text:
        return []
    found: list[Citation] = []
    line, counted_to = first_line, 0
    for match in _citation_matches(text):
        raw = match.group(1).rstrip(".:")
        parsed = _parse_citation(raw)
        if parsed is None:
            continue  # "reports/" or "reports/*" names the folder, not a piece of evidence
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        found.append(Citation(raw, line, *parsed))
    return found


@functools.lru_cache(maxsize=16384)
def _parse_citation(raw: str) -> tuple[tuple[str, ...], bool] | None:
    """(expanded paths, placeholder) of a citation as written; None for the report root alone.
    Remembered: a ledger cites the same few folders in thousands of attempts."""
    if _REPORT_ROOT_ONLY.search(raw):
        return None
    paths = tuple(p.rstrip(".:") for p in expand_braces(raw))
    return paths, any(is_placeholder(p) for p in paths)


def _citation_matches(text: str):
    """`_CITATION` matches, tried only where a `reports/` occurs: scanning every position is quadratic."""
    position = 0
    while True:
        index = text.find("reports/", position)
        if index < 0:
            return
        start = index
        while start > 0 and text[start - 1] in _PATH_CHARS:
            start -= 1
        match = _CITATION.match(text, start)
        if match is None or match.end() <= index:
            match = _CITATION.search(text, start, index + len("reports/") + 1024)
        if match is None or match.end() <= index:
            position = index + len("reports/")
            continue
        yield match
        position = max(match.end(), index + len("reports/"))


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


def resolve(
    citation: Citation, root: Path, bases: list[Path], cache: dict | None = None
) -> Resolution:
    """Which of the cited paths exist, relative to the workspace root or one of `bases`.

    `cache` (a dict the caller keeps for one set of bases) remembers each path's
    answer: ledgers cite the same folders over and over.
    """
    resolution = Resolution(citation)
    if citation.placeholder:
        return resolution
    for path_text in citation.paths:
        found = cache.get(path_text) if cache is not None else None
        if found is None:
            found = _locate(path_text, root, bases)
            if cache is not None:
                cache[path_text] = found
        kind, hit = found
        if kind == "existing" and hit is not None:
            resolution.existing.append(hit)
        elif kind == "outside":
            resolution.outside.append(path_text)
        else:
            resolution.missing.append(path_text)
    return resolution


def _locate(path_text: str, root: Path, bases: list[Path]) -> tuple[str, Path | None]:
    # Candidates are strings until one exists: audits locate tens of thousands of
    # citations, and building a Path for each candidate was most of their cost.
    if path_text.startswith("/") or path_text.startswith("~"):
        return "outside", None
    # As pathlib would read it: empty and `.` parts dropped, `..` kept (`is_inside` judges it).
    relative = "/".join(part for part in path_text.split("/") if part not in ("", "."))
    if path_text.startswith("reports/"):
        candidates = [os.path.join(b, relative) for b in bases]
    else:
        # `plans/…/reports/…` is taken from the root first, then the bases.
        candidates = [os.path.join(root, relative), *(os.path.join(b, relative) for b in bases)]
    escaped = False
    for candidate in candidates:
        # Three substring tests, not a generator over the characters: this runs for every
        # candidate of every citation an audit locates.
        if "*" not in candidate and "?" not in candidate and "[" not in candidate:
            inside = _plain_inside(root, candidate)
            if inside is None:
                continue  # no such path
            if inside:
                return "existing", Path(candidate)
            escaped = True
            continue
        for concrete in sorted(glob.glob(candidate)):
            if is_inside(root, concrete):
                return "existing", Path(concrete)
            escaped = True
    return ("outside", None) if escaped else ("missing", None)


def _plain_inside(root: Path, candidate: str) -> bool | None:
    """None when `candidate` does not exist (os.path.exists), else `is_inside(root, candidate)`.

    One lstat answers both for a path that is not a link (nearly every cited file): it
    exists, and its real path is its real parent folder's (cached) plus its name.
    """
    try:
        mode = os.lstat(candidate).st_mode
    except OSError:
        return None  # as os.path.exists: any error reads as absent
    name = os.path.basename(candidate)
    if stat.S_ISLNK(mode) or name in ("", ".", "..") or "/../" in candidate:
        return is_inside(root, candidate) if os.path.exists(candidate) else None
    return _under(os.path.join(real_path(os.path.dirname(candidate)), name), real_path(str(root)))


def is_inside(root: Path, path: str | Path) -> bool:
    """Is `path`, symlinks followed, inside `root`? Folder resolutions are cached: audits ask thousands of times."""
    return _under(real_path(str(path)), real_path(str(root)))


def _under(resolved: str, root_text: str) -> bool:
    return resolved == root_text or resolved.startswith(root_text.rstrip(os.sep) + os.sep)


@functools.lru_cache(maxsize=65536)
def real_path(folder: str) -> str:
    """realpath (of a folder or a file), one lstat per new path: the parent's answer is
    cached and reused, and the link test runs on the resolved path, where it is exact."""
    parent = os.path.dirname(folder)
    if parent == folder:
        return folder
    name = os.path.basename(folder)
    if name in ("", "."):
        return real_path(parent)
    if name == "..":
        # The resolved parent's parent, as realpath reads `..` (after following links).
        return os.path.dirname(real_path(parent))
    candidate = os.path.join(real_path(parent), name)
    return os.path.realpath(candidate) if os.path.islink(candidate) else candidate
