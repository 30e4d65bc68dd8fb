"""What changed in git: the scope of `audit --since REV`, and which verified rows are stale.

Both read git with a few whole-repository calls (not one per row), so an audit of
thousands of rows pays for them once.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

from ledger.errors import BadInput
from ledger.reading.audit.model import AuditClass, AuditReport, Issue, Reason
from ledger.workspace import Workspace

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


# ---------------------------------------------------------------- audit --since REV


@dataclass
class ChangeScope:
    rev: str
    files: set[str] = field(
        default_factory=set
    )  # changed since rev (committed, staged, in the tree, or new)
    lines: dict[str, set[int]] = field(
        default_factory=dict
    )  # file -> changed line numbers (new side)


def change_scope(ws: Workspace, rev: str) -> ChangeScope:
    """Files and lines that differ between REV and the work tree (new untracked files included)."""
    resolved = _git(ws.root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if resolved.returncode != 0:
        raise BadInput(f"--since {rev}: not a commit in this repository")
    top = Path(_git(ws.root, "rev-parse", "--show-toplevel").stdout.strip()).resolve()
    scope = ChangeScope(rev)

    def workspace_relative(name: str) -> str | None:
        try:
            return (top / name).resolve().relative_to(ws.root.resolve()).as_posix()
        except ValueError:
            return None

    diff = _git(ws.root, "diff", "-U0", "--no-color", "--no-ext-diff", "--relative", rev, "--")
    current = None
    for line in diff.stdout.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
            if current is not None:
                scope.files.add(current)
        elif line.startswith("diff --git "):
            current = None
        else:
            match = _HUNK.match(line)
            if match and current is not None:
                start, count = int(match.group(1)), int(match.group(2) or "1")
                scope.lines.setdefault(current, set()).update(range(start, start + max(count, 1)))
    for name in _git(ws.root, "diff", "--name-only", "--relative", rev, "--").stdout.splitlines():
        scope.files.add(name)
    for name in _git(
        ws.root, "ls-files", "--others", "--exclude-standard", "--full-name"
    ).stdout.splitlines():
        relative = workspace_relative(name)
        if relative is not None:
            scope.files.add(relative)
    return scope


def restrict_to_changes(ws: Workspace, report: AuditReport, scope: ChangeScope) -> None:
    """Keep the rows (and issues) changed since the scope's commit: rows whose plan lines
    changed, rows an attempt added or edited since then names, and rows with a run recorded
    since then. The gate a loop runs after an agent's turn."""
    from ledger.reading.show import mentions_row

    ledger_file = ws.relative(ws.ledger_path)
    changed_attempts = []
    doc = ws.ledger_doc()
    if doc is not None and ledger_file in scope.lines:
        touched = scope.lines[ledger_file]
        changed_attempts = [
            a
            for a in doc.all_attempts()
            if any(n in touched for n in range(a.line, a.end_line + 1))
        ]
    new_folders = {
        name.rsplit("/", 1)[0] + "/" for name in scope.files if name.endswith("/manifest.json")
    }
    ids_in_file = Counter((row.file, row.row) for row in report.rows)
    kept = []
    for row in report.rows:
        plan_lines = scope.lines.get(row.file, set())
        by_plan = row.line in plan_lines
        twin = ids_in_file[row.file, row.row] > 1
        by_attempt = any(
            a.initiative == row.initiative
            and (
                row.row in a.rows
                or row.qualified_id in a.rows
                or _mentions(a.text, row, mentions_row, twin)
            )
            for a in changed_attempts
        )
        by_run = any(
            folder in new_folders for folder in [*row.evidence, *([row.proof] if row.proof else [])]
        )
        if by_plan or by_attempt or by_run:
            kept.append(row)
    report.rows = kept
    report.issues = [issue for issue in report.issues if _issue_in_scope(issue, scope, new_folders)]


def _mentions(text: str, row, mentions_row, twin: bool) -> bool:
    """mentions_row for an audited row. `twin`: its id repeats in its plan file, so a
    mention of the other phase's row (`A.C1` for `B.C1`) does not name it."""
    row_id = row.row.rsplit(".", 1)[-1]
    key = (
        row.qualified_id[: -len(row_id) - 1]
        if twin and row.qualified_id.endswith("." + row_id)
        else None
    )

    class _Named:  # what mentions_row reads: id, real id or not, plan file, and for twins ref and phase
        id = row_id
        has_id = True
        path = PurePosixPath(row.file)
        ref = row.qualified_id if key else row_id
        phase = SimpleNamespace(key=key) if key else None

    return mentions_row(text, _Named)


def _issue_in_scope(issue: Issue, scope: ChangeScope, new_folders: set[str]) -> bool:
    if issue.file and issue.file in scope.files:
        return issue.line is None or issue.line in scope.lines.get(issue.file, {issue.line})
    return any(folder in issue.message for folder in new_folders)


# ---------------------------------------------------------------- freshness


@dataclass
class History:
    """HEAD's first-parent history, newest first, with the files each commit changed, and
    the files changed in the work tree since HEAD."""

    order: dict[str, int]  # full sha -> position (0 = HEAD)
    commits: list[tuple[str, str, list[str]]]  # (sha, subject, files)
    uncommitted: list[str]

    @classmethod
    def read(cls, root: Path) -> History | None:
        log = _git(
            root,
            "log",
            "--first-parent",
            "--no-renames",
            "--format=%x00%H %s",
            "--name-only",
            "--relative",
            "HEAD",
        )
        if log.returncode != 0:
            return None
        commits = []
        for block in log.stdout.split("\x00")[1:]:
            head, _, rest = block.partition("\n")
            sha, _, subject = head.partition(" ")
            commits.append((sha, subject, [f for f in rest.splitlines() if f.strip()]))
        dirty = _git(root, "diff", "--name-only", "--relative", "HEAD", "--").stdout.splitlines()
        return cls({sha: i for i, (sha, _, _) in enumerate(commits)}, commits, dirty)

    def changed_since(self, commit: str) -> tuple[list[str], list[str]] | None:
        """(files changed after `commit`, "sha subject" of the commits that changed them);
        None when `commit` is not in HEAD's first-parent history."""
        matches = (
            [sha for sha in self.order if sha.startswith(commit)]
            if len(commit) < 40
            else ([commit] if commit in self.order else [])
        )
        if len(matches) != 1:
            return None
        files: dict[str, None] = {}
        commits = []
        for sha, subject, names in self.commits[: self.order[matches[0]]]:
            for name in names:
                files.setdefault(name)
            commits.append((sha, subject, names))
        for name in self.uncommitted:
            files.setdefault(name)
        return list(files), [f"{sha[:12]} {subject}" for sha, subject, _ in commits] + (
            ["(uncommitted changes)"] if self.uncommitted else []
        )


def _selector_files(selector: str) -> AbstractSet[str]:
    if isinstance(selector, str):
        return _selector_files_of(selector)  # an audit has few selector texts and many rows
    return _split_selector_files(selector)


@lru_cache(maxsize=4096)
def _selector_files_of(selector: str) -> frozenset[str]:
    return frozenset(_split_selector_files(selector))


def _split_selector_files(selector) -> set[str]:
    import shlex

    try:
        words = shlex.split(selector or "")
    except ValueError:
        return set()
    return {word.split("::", 1)[0] for word in words if word.split("::", 1)[0].endswith(".py")}


def _code_under_test(name: str, ws: Workspace) -> bool:
    """Library code a test may exercise: Python outside test folders and the plan roots."""
    parts = name.split("/")
    if not name.endswith(".py") or any(
        p in ("tests", "test") or p.startswith("test_") for p in parts
    ):
        return False
    return not any(name.startswith(root.rstrip("/") + "/") for root in ws.config.plan_roots)


def mark_stale(ws: Workspace, report: AuditReport, checker=None) -> None:
    """Every verified row whose proving run's commit is older than a change to the run's test
    files or to library code is 'verified, stale', with the files and commits that did it.
    `checker`: the audit's IntegrityChecker, whose manifests are already read."""
    from ledger.running.evidence import read_manifest

    def manifest_of(folder: Path) -> dict | None:
        known = checker.checked_manifest(folder) if checker is not None else None
        return known if known is not None else read_manifest(folder)

    verified = [row for row in report.rows if row.audit is AuditClass.VERIFIED and row.proof]
    if not verified:
        return
    history = History.read(ws.root)
    if history is None:
        return
    for row in verified:
        assert row.proof  # verified rows were chosen with a proof
        manifest = manifest_of(ws.root / row.proof) or {}
        commit = manifest.get("git_commit")
        if not isinstance(commit, str) or not commit:
            continue
        changed = history.changed_since(commit)
        if changed is None:
            continue
        files, commits = changed
        tests = _selector_files(manifest.get("selector", ""))
        stale = [f for f in files if f in tests or _code_under_test(f, ws)]
        if stale:
            touching = [
                c
                for c in commits
                if c == "(uncommitted changes)"
                or any(
                    f in names
                    for sha, _, names in history.commits
                    if c.startswith(sha[:12])
                    for f in stale
                )
            ]
            row.stale = {"since": commit[:12], "files": stale[:20], "commits": touching[:10]}
            shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            row.reasons.append(
                Reason(
                    f"stale: changed since the run's commit {commit[:12]}: {shown}"
                    + (f" (by {'; '.join(touching[:3])})" if touching else "")
                    + "; run it again (fails --strict)"
                )
            )
