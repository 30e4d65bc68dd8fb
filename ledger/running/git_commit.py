"""Committing one `ledger do` step: its evidence files, the plan and the ledger, nothing else.

`git commit --only -- PATHS` takes exactly those paths from the working tree
and leaves anything else the user staged staged and uncommitted. The evidence
is the report folder's manifest and the files it hashes, named one by one and
force-added: a `.gitignore` that ignores `*.log` (or the whole report tree)
would otherwise leave `pytest.log` behind, and every other clone would see a
manifest whose files are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import ExitCode, LedgerError


class GitRefused(LedgerError):
    """The tree is in no state for an automatic commit; nothing was run."""


class GitBusy(LedgerError):
    """Another git process holds the repository's index lock."""

    exit_code = ExitCode.LOCKED


@dataclass
class CommitGuard:
    repo_root: Path
    branch: str
    dirty_before: list[str] = field(
        default_factory=list
    )  # our paths with changes made before the run


def current_branch(root: Path) -> str:
    """The checked-out branch, `(detached at <sha>)`, or `(not a git repository)`."""
    try:
        import git

        repo = git.Repo(root, search_parent_directories=True)
    except Exception:  # not a repository, or git itself missing
        return "(not a git repository)"
    if repo.head.is_detached:
        return f"(detached at {repo.head.commit.hexsha[:12]})"
    return repo.active_branch.name


def _open(root: Path):
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitRefused(f"--commit: {root} is not inside a git repository") from None


def ensure_committable(root: Path, paths: list[Path]) -> CommitGuard:
    """Refuse a detached HEAD, unmerged paths or a merge/rebase in progress."""
    repo = _open(root)
    if repo.bare:
        raise GitRefused(f"--commit: {repo.git_dir} is a bare repository")
    if repo.head.is_detached:
        raise GitRefused(
            f"--commit refused: HEAD is detached at {repo.head.commit.hexsha[:12]}; check out a branch first (git switch <branch>)"
        )
    unmerged = sorted({path for path, stage in repo.index.entries if stage != 0})
    if unmerged:
        shown = ", ".join(unmerged[:5]) + (
            f" and {len(unmerged) - 5} more" if len(unmerged) > 5 else ""
        )
        raise GitRefused(
            f"--commit refused: unmerged paths {shown}; resolve the conflict and commit it first"
        )
    git_dir = Path(repo.git_dir)
    for marker, what in (
        ("MERGE_HEAD", "a merge"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase or am"),
    ):
        if (git_dir / marker).exists():
            raise GitRefused(
                f"--commit refused: {what} is in progress ({marker}); finish or abort it first"
            )
    repo_root = Path(repo.working_tree_dir).resolve()
    relative = [_relative(repo_root, p) for p in paths if p.exists()]
    dirty = (
        repo.git.status("--porcelain", "--untracked-files=no", "--", *relative).splitlines()
        if relative
        else []
    )
    return CommitGuard(repo_root, repo.active_branch.name, [line[3:] for line in dirty])


def _relative(repo_root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo_root).as_posix()
    except ValueError:
        raise GitRefused(f"--commit: {path} lies outside the repository at {repo_root}") from None


def commit_message(initiative: str, row: str, outcome: str, selector: str) -> str:
    return f"{initiative} {row}: {outcome} (tests: {selector})"


def evidence_files(folder: Path) -> list[Path]:
    """The report folder's manifest and the files it lists or holds a record in (only those: a stray file
    someone dropped in the folder is not evidence); every file when no manifest reads."""
    from ledger.running.evidence import MANIFEST, read_manifest

    manifest = read_manifest(folder) or {}
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return sorted(p for p in folder.rglob("*") if p.is_file())
    regions = manifest.get("regions")
    if not isinstance(regions, dict):
        regions = {}
    names = sorted({*listed, *regions})
    return [folder / MANIFEST, *(folder / name for name in names if isinstance(name, str))]


def _ignored(repo, relative: list[str]) -> list[str]:
    """Which of `relative` `.gitignore` (or info/exclude) ignores; tracked files never are."""
    if not relative:
        return []
    # Exit 1 means none is ignored: not an error here.
    _, out, _ = repo.git.check_ignore(
        "--no-index", "--", *relative, with_extended_output=True, with_exceptions=False
    )
    ignored = set(out.splitlines())
    tracked = set(repo.git.ls_files("--", *ignored).splitlines()) if ignored else set()
    return sorted(ignored - tracked)


def commit_paths(guard: CommitGuard, paths: list[Path], message: str) -> dict:
    """Commit exactly `paths` (files or folders) and return what was committed.

    Each path is force-added (`git add -f`): the caller names exactly the files that
    belong in the commit, and an ignore rule must not silently drop one of them."""
    import git

    repo = git.Repo(guard.repo_root)
    relative = sorted({_relative(guard.repo_root, p) for p in paths if p.exists()})
    try:
        ignored = _ignored(repo, relative)
        repo.git.add("-f", "--", *relative)
        repo.git.commit("--only", "--no-edit", "-m", message, "--", *relative)
    except git.GitCommandError as exc:
        detail = next(
            (line.strip() for line in str(exc.stderr or exc).splitlines() if line.strip()), str(exc)
        )
        detail = detail.removeprefix("stderr: ").strip("'")
        error = GitBusy if "index.lock" in detail else GitRefused
        raise error(f"--commit: git failed: {detail}") from None
    commit = repo.head.commit
    files = sorted(str(name) for name in commit.stats.files) if commit.parents else sorted(relative)
    return {
        "sha": commit.hexsha,
        "branch": guard.branch,
        "message": message,
        "paths": relative,
        "files": files,
        "included_earlier_changes": guard.dirty_before,
        "force_added": ignored,
    }


def commit_run(guard: CommitGuard, result, report_dir: Path, paths: list[Path]) -> dict:
    """Commit a finished `ledger do` run (its evidence files, then `paths`); on failure say
    what was already recorded."""
    message = commit_message(result.initiative, result.row, result.outcome, result.selector)
    try:
        return commit_paths(guard, [*evidence_files(report_dir), *paths], message)
    except (GitRefused, GitBusy) as exc:
        raise type(exc)(
            f"{exc.message} (the run itself finished: {result.outcome}, evidence in {result.report_dir}, "
            f"attempt #{result.attempt} recorded; commit those files by hand)"
        ) from None
